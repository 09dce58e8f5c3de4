"""A stand-in for InfluxDB 2's write and ping endpoints, for the one fault test that needs the
server to go away and come back. InfluxDB cannot be installed on this machine; the adapter's
integration tests run against a real one when FACILITY_TEST_INFLUX_URL is set (the compose
stack). Points are kept the way InfluxDB keeps them: identified by series and time, a second
write of the same point overwriting the first."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.services import free_port


class InfluxStandIn:
    def __init__(self) -> None:
        self.port = free_port()
        self.available = True
        self.arrivals: list[tuple[str, int]] = []  # (series, ts) in the order written
        self.points: dict[tuple[str, int], str] = {}
        self.refused = 0
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def _answer(self, code: int) -> None:
                self.send_response(code)
                self.send_header("X-Influxdb-Version", "v2.7-standin")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                self._answer(204 if stand_in.available and self.path.startswith("/ping") else 503)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if not stand_in.available or not self.path.startswith("/api/v2/write"):
                    stand_in.refused += 1
                    self._answer(503)
                    return
                for text in body.splitlines():
                    if text.strip():
                        head, _fields, ts = text.rsplit(" ", 2)
                        key = (head, int(ts))
                        stand_in.arrivals.append(key)
                        stand_in.points[key] = text
                self._answer(204)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
