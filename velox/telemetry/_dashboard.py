"""The Grafana dashboard, generated from code with grafana-foundation-sdk.

The panels and their queries come from ``_panels`` (the same table the
Prometheus integration test runs against a real Prometheus); this module only
lays them out. The generated JSON is committed at
``observability/grafana/dashboards/velox.json``; the test suite regenerates it
and fails when the two differ.

    python -m velox.telemetry._dashboard            rewrite the committed JSON
    python -m velox.telemetry._dashboard --check    exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import _panels

OUTPUT = Path(__file__).resolve().parents[2] / "observability" / "grafana" / "dashboards" / "velox.json"
UID = "velox-pipeline"
EXTRA = "velox[dashboard]"

#: (width, height) of each panel, in PANELS order, on Grafana's 24-column grid
LAYOUT = ((18, 8), (6, 8), (12, 9), (12, 9), (12, 8), (12, 8), (12, 8), (12, 8))


def build() -> dict[str, Any]:
    """The dashboard as a JSON-ready dict."""
    try:
        from grafana_foundation_sdk.builders import common as cb
        from grafana_foundation_sdk.builders import dashboard as db
        from grafana_foundation_sdk.builders import prometheus, stat, timeseries
        from grafana_foundation_sdk.cog.encoder import JSONEncoder
        from grafana_foundation_sdk.models import common as cm
        from grafana_foundation_sdk.models.dashboard import DataSourceRef, GridPos
    except ImportError:
        raise SystemExit(f"the dashboard generator needs grafana-foundation-sdk: pip install '{EXTRA}'") from None

    ds = DataSourceRef(type_val="prometheus", uid="${datasource}")
    d = (db.Dashboard("velox pipeline")
         .uid(UID)
         .description("velox run: throughput, latency, rings, bundles, order book and drops "
                      "(velox run --prometheus or --otlp through an OpenTelemetry Collector)")
         .tags(["velox"])
         .refresh("5s")
         .time("now-15m", "now")
         .timezone("browser")
         .with_variable(db.DatasourceVariable("datasource").label("Prometheus").type("prometheus")))
    x = y = row_h = 0
    for panel, (w, h) in zip(_panels.PANELS, LAYOUT, strict=True):
        if x + w > 24:
            x, y, row_h = 0, y + row_h, 0
        row_h = max(row_h, h)
        b = stat.Panel() if panel.kind == "stat" else timeseries.Panel()
        b = (b.title(panel.title).description(panel.description).unit(panel.unit).datasource(ds)
             .grid_pos(GridPos(h=h, w=w, x=x, y=y)))
        if panel.kind == "stat":
            b = (b.graph_mode(cm.BigValueGraphMode.AREA).color_mode(cm.BigValueColorMode.VALUE)
                 .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"])))
        else:
            b = b.legend(cb.VizLegendOptions().display_mode(cm.LegendDisplayMode.LIST)
                         .placement(cm.LegendPlacement.BOTTOM).show_legend(True))
            if panel.unit == "percentunit":
                b = b.min(0)
        for i, q in enumerate(panel.queries):
            b = b.with_target(prometheus.Dataquery().expr(q.expr).legend_format(q.legend)
                              .ref_id(chr(ord("A") + i)).datasource(ds))
        d = d.with_panel(b)
        x += w
    return json.loads(json.dumps(d.build(), cls=JSONEncoder))


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m velox.telemetry._dashboard", description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true", help="exit 1 if the committed JSON differs from the generated one")
    p.add_argument("--output", type=Path, default=OUTPUT, help=f"where the JSON goes (default {OUTPUT})")
    args = p.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run python -m velox.telemetry._dashboard", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
