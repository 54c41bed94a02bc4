"""A loopback S3 gateway in front of SeaweedFS that does not do conditional writes.

It plays the S3-compatible servers of before 2024/2025:

- ``mode="ignore"`` drops ``If-None-Match`` / ``If-Match`` and re-signs the request
  (SigV4, the test credentials), so every conditional put silently overwrites;
- ``mode="refuse"`` answers ``501 NotImplemented`` to any request carrying them.

Everything else is forwarded as is.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

from tests.helpers.seaweed import ACCESS_KEY, REGION, SECRET_KEY

_CONDITIONS = ("if-none-match", "if-match")
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def _handler(upstream: str, mode: str) -> type[http.server.BaseHTTPRequestHandler]:
    target = urllib.parse.urlsplit(upstream)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
            conditional = any(k.lower() in _CONDITIONS for k in headers)
            if conditional and self.command == "PUT" and mode == "refuse":
                payload = (
                    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>'
                    b"<Message>A header you provided implies functionality that is not "
                    b"implemented</Message></Error>"
                )
                self.send_response(501)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            if conditional and self.command == "PUT":
                headers = self._resign(body, headers)
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in _HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                conn.close()

        def _resign(self, body: bytes, headers: dict[str, str]) -> dict[str, str]:
            from botocore.auth import S3SigV4Auth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials

            keep = {
                k: v
                for k, v in headers.items()
                if k.lower() not in _CONDITIONS
                and k.lower() not in ("host", "authorization", "x-amz-date", "x-amz-content-sha256")
            }
            request = AWSRequest(
                method=self.command, url=f"{upstream}{self.path}", data=body, headers=keep
            )
            S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(request)
            return dict(request.headers.items())

        do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _forward

    return Handler


@contextmanager
def conditionless_gateway(upstream: str, mode: str) -> Iterator[str]:
    """Serve the gateway on an ephemeral loopback port; yields its endpoint URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, mode))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
