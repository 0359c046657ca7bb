"""One webhook attempt (core/delivery.py _post): cut off in time, and then counted as failed; sent
through the proxy the environment names."""

import http.server
import socket
import threading
import time

from marketguard.core import delivery


def _drip_server(payload_first: bytes, seconds: float, step: float):
    """A TCP server that accepts one connection, reads nothing meaningful, and sends
    `payload_first` then one byte every `step` seconds for `seconds`."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def run():
        conn, _ = srv.accept()
        try:
            conn.sendall(payload_first)
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(step)
                conn.sendall(b"\x00")
        except OSError:
            pass
        finally:
            conn.close()
            srv.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return srv.getsockname()[1], t


def test_head_cut_off_by_the_watchdog_is_a_failed_attempt_not_a_success(monkeypatch, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True  # the receiver listens on 127.0.0.1
    # the watchdog's shutdown makes the pending read end as if the answer were complete: the
    # half-received "200" must not count as delivered
    monkeypatch.setattr(delivery, "TIMEOUT_SECONDS", 1)
    port, _t = _drip_server(b"HTTP/1.1 200 OK\r\nX-Slow: ", seconds=4.0, step=0.3)
    start = time.monotonic()
    status, error = delivery._post(f"http://127.0.0.1:{port}/hook", b"{}", {})
    assert time.monotonic() - start < 2.0  # cut off in time...
    assert (status, error.split(":")[0]) == (None, "TimeoutError")  # ...and a failed attempt, retried later


def test_an_http_receiver_is_reached_through_the_proxy_the_environment_names(monkeypatch):
    seen = {}

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen["target"] = self.path
            seen["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=server.handle_request, daemon=True).start()
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("NO_PROXY", "")
    try:
        status, error = delivery._post("http://hooks.example.invalid/in?x=1", b'{"a":1}', {})
    finally:
        server.server_close()
    assert (status, error) == (204, "")
    assert seen == {"target": "http://hooks.example.invalid/in?x=1", "body": b'{"a":1}'}
