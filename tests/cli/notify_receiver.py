"""A webhook receiver on loopback that checks ccops's signature as the docs tell a receiver to."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ccops.notify.channels import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


class Receiver:
    def __init__(self, secret: str, port: int = 0) -> None:
        self.secret = secret
        self.accepted: list[dict[str, Any]] = []
        self.rejected = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    message = json.loads(body)["message"]
                except (ValueError, KeyError, TypeError):
                    message = None
                stamp = self.headers.get(TIMESTAMP_HEADER, "")
                good = isinstance(message, str) and verify(
                    receiver.secret, stamp, message, self.headers.get(SIGNATURE_HEADER, "")
                )
                if good:
                    receiver.accepted.append(json.loads(message))
                else:
                    receiver.rejected += 1
                self.send_response(204 if good else 401)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
