"""Telemetry overhead: the pipeline with telemetry off, with metrics on, and
with metrics and 1% sampled traces on, interleaved in the same run (off, on,
on+traces, off, ...) so that the machine's load affects every configuration
alike, saturated and at a fixed rate (100,000 txn/s by default).

"Metrics" is what ``velox run --otlp URL --prometheus 127.0.0.1:0`` builds:
OTLP/HTTP export (here every second, ten times velox's default rate, to make
the cost visible) to a sink in a separate process, and a Prometheus endpoint
that the sink process scrapes every second. "Traces" adds ``--trace-sample``.

Run it as a script::

    python benches/bench_telemetry.py [--seconds 3] [--repeats 3] [--json FILE]

It reports, per configuration, the median saturated throughput and
transactions per CPU second, and at the fixed rate the median end-to-end
p50/p99/p99.9 and the CPU the pipeline threads used, with the on/off ratios.
Every run also checks its invariants; a failed verdict makes it exit 1.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys

from velox._pipeline import Pipeline, PipelineConfig, drive
from velox.telemetry._export import Telemetry, TelemetryOptions

SINK = r"""
import sys, threading, time, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
def scrape():
    while True:
        time.sleep(1.0)
        try:
            port = open(sys.argv[1]).read().strip()
            if port:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
        except OSError:
            pass
threading.Thread(target=scrape, daemon=True).start()
s.serve_forever()
"""

CONFIGS = ("off", "metrics", "metrics+traces")


def one_run(cfg: PipelineConfig, mode: str, sink_url: str, port_file: str) -> dict:
    pipe = Pipeline(cfg)
    tel = None
    if mode != "off":
        opts = TelemetryOptions(otlp=sink_url, prometheus=("127.0.0.1", 0),
                                trace_sample=0.01 if mode == "metrics+traces" else 0.0)
        tel = Telemetry(pipe, opts, out=io.StringIO())
        with open(port_file, "w") as f:
            f.write(str(tel.prometheus_address[1]))
    try:
        report = drive(pipe)
    finally:
        if tel is not None:
            tel.close()
            with open(port_file, "w") as f:
                f.write("")
    lat = report.latency_ns["e2e"]
    return {"ok": report.ok, "throughput": report.throughput, "per_cpu": report.per_cpu_second,
            "cpu_s": report.cpu_s, "elapsed_s": report.elapsed_s, "e2e_p50_us": lat["p50"] / 1000,
            "e2e_p99_us": lat["p99"] / 1000, "e2e_p999_us": lat["p999"] / 1000,
            "spans": getattr(tel, "trace_counts", {}).get("spans", 0) if tel else 0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=3.0, help="seconds per pipeline run (default 3)")
    p.add_argument("--repeats", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    p.add_argument("--rate", type=float, default=100_000, help="rate of the latency runs (default 100000)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--json", metavar="FILE", help="write every run and the medians as JSON")
    args = p.parse_args(argv)
    os.environ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000"
    port_file = f"/tmp/velox-bench-telemetry-{os.getpid()}.port"
    open(port_file, "w").close()
    sink = subprocess.Popen([sys.executable, "-c", SINK, port_file], stdout=subprocess.PIPE, text=True)
    sink_url = f"http://127.0.0.1:{sink.stdout.readline().strip()}"
    load_before = os.getloadavg()
    runs: dict[str, dict[str, list[dict]]] = {"saturated": {m: [] for m in CONFIGS},
                                             "rate": {m: [] for m in CONFIGS}}
    ok = True
    try:
        for rep in range(args.repeats):
            for load in ("saturated", "rate"):
                for mode in CONFIGS:
                    cfg = PipelineConfig(duration=args.seconds, seed=args.seed + rep, saturate=load == "saturated",
                                         rate=args.rate, backpressure="block" if load == "saturated" else "drop")
                    r = one_run(cfg, mode, sink_url, port_file)
                    ok = ok and r["ok"]
                    runs[load][mode].append(r)
                    print(f"[{rep + 1}/{args.repeats}] {load:9} {mode:15} {r['throughput']:>12,.0f} txn/s "
                          f"{r['per_cpu']:>12,.0f}/CPU s  e2e p99 {r['e2e_p99_us']:8.2f} us  "
                          f"cpu {r['cpu_s']:.2f} s  spans {r['spans']}", flush=True)
    finally:
        sink.terminate()
        sink.wait()
        os.unlink(port_file)
    med = {load: {m: {k: statistics.median(r[k] for r in rs) for k in rs[0] if k != "ok"}
                  for m, rs in by.items()} for load, by in runs.items()}
    load_after = os.getloadavg()
    print(f"\nload average {load_before[0]:.1f} before, {load_after[0]:.1f} after; medians of {args.repeats}:")
    print(f"{'':11}{'config':16}{'txn/s':>14}{'txn/CPU s':>14}{'ratio':>8}")
    for m in CONFIGS:
        s = med["saturated"][m]
        print(f"{'saturated':11}{m:16}{s['throughput']:>14,.0f}{s['per_cpu']:>14,.0f}"
              f"{s['throughput'] / med['saturated']['off']['throughput']:>8.3f}")
    print(f"{'':11}{'config':16}{'p50 us':>9}{'p99 us':>9}{'p99.9 us':>10}{'CPU s':>8}{'CPU ratio':>10}")
    for m in CONFIGS:
        s = med["rate"][m]
        print(f"{f'{args.rate / 1000:g}k/s':11}{m:16}{s['e2e_p50_us']:>9.2f}{s['e2e_p99_us']:>9.2f}"
              f"{s['e2e_p999_us']:>10.2f}{s['cpu_s']:>8.2f}{s['cpu_s'] / med['rate']['off']['cpu_s']:>10.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"load_before": load_before, "load_after": load_after, "seconds": args.seconds,
                       "repeats": args.repeats, "rate": args.rate, "runs": runs, "medians": med}, f, indent=2)
    if not ok:
        print("an invariant failed in some run", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
