"""A minimal OTLP/HTTP receiver for tests: http.server on 127.0.0.1 that
decodes every protobuf export request with opentelemetry-proto."""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OtlpReceiver:
    """Collects decoded ExportMetricsServiceRequest / ExportTraceServiceRequest
    messages; use as a context manager; ``url`` is the base endpoint."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        self.metrics: list = []
        self.traces: list = []
        self.content_types: set[str] = set()
        self.errors: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.content_types.add(self.headers.get("Content-Type", ""))
                if self.path == "/v1/metrics":
                    req = metrics_service_pb2.ExportMetricsServiceRequest()
                    req.ParseFromString(body)
                    receiver.metrics.append(req)
                    resp = metrics_service_pb2.ExportMetricsServiceResponse()
                elif self.path == "/v1/traces":
                    req = trace_service_pb2.ExportTraceServiceRequest()
                    req.ParseFromString(body)
                    receiver.traces.append(req)
                    resp = trace_service_pb2.ExportTraceServiceResponse()
                else:
                    receiver.errors.append(f"unexpected path {self.path}")
                    self.send_response(404)
                    self.end_headers()
                    return
                out = resp.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpReceiver:  # noqa: PYI034
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def last_metrics(self) -> dict:
        """(name, sorted attrs) -> point of the velox scope in the latest request,
        plus '__meta__' -> {name: (unit, kind)}."""
        return flatten(self.metrics[-1])


def flatten(req) -> dict:
    points: dict = {}
    meta: dict = {}
    for rm in req.resource_metrics:
        for sm in rm.scope_metrics:
            if sm.scope.name != "velox":
                continue
            for m in sm.metrics:
                kind = m.WhichOneof("data")
                meta[m.name] = (m.unit, kind)
                for p in getattr(m, kind).data_points:
                    attrs = tuple(sorted((a.key, a.value.string_value) for a in p.attributes))
                    points[(m.name, attrs)] = p
    points["__meta__"] = meta
    return points
