"""The distribution point's boot service during a deployment: HTTP on 127.0.0.1.

It serves what was staged on the site's point (images/NAME/VERSION/...), a
boot script per expected MAC address (never for another machine), each
machine's seed (its admin key and host name, as a small tar), and takes the
imager's progress reports. Every request a machine makes is an event ccops
waits on: that is how it knows which phase a machine is in.
"""

from __future__ import annotations

import io
import re
import tarfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAC_PATH = re.compile(r"/(pxe|seed|report)/([0-9a-f]{2}(?:-[0-9a-f]{2}){5})(?:\.ipxe|\.tar|/([a-z-]{1,40}))$")
CHUNK = 1 << 20


@dataclass
class Machine:
    host: str
    mac: str  # as iPXE writes it: 52-54-00-cc-01-01
    boot_script: str
    seed: bytes
    events: list[tuple[float, str]] = field(default_factory=list)


class PointServer:
    """One HTTP server for one site's deployment; start() and stop() around the batch."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root.resolve()
        self.port = port
        self.machines: dict[str, Machine] = {}
        self.changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    def expect(self, machine: Machine) -> None:
        with self.changed:
            self.machines[machine.mac] = machine

    def event(self, mac: str, what: str) -> None:
        with self.changed:
            machine = self.machines.get(mac)
            if machine is not None:
                machine.events.append((time.monotonic(), what))
                self.changed.notify_all()

    def wait(self, mac: str, wanted: tuple[str, ...], timeout: float) -> str | None:
        """The first event in ``wanted`` (or ending in -failed) this machine sent, or None on timeout."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for _, what in self.machines[mac].events:
                    if what in wanted or what.endswith("-failed"):
                        return what
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(min(left, 1.0))

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, name="ccops-point", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> PointServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def seed_tar(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o600, 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _handler(point: PointServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ccops-point"

        def log_message(self, format: str, *args: object) -> None:
            return  # the events are the log

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if match := MAC_PATH.fullmatch(path):
                self._machine(match.group(1), match.group(2), match.group(3))
            elif path.startswith("/images/"):
                self._file(path)
            else:
                self.send_error(404)

        def _machine(self, kind: str, mac: str, what: str | None) -> None:
            machine = point.machines.get(mac)
            if machine is None:
                self.send_error(404)  # not a machine this deployment images: it keeps waiting
                return
            if kind == "pxe":
                point.event(mac, "pxe")
                self._send(machine.boot_script.encode(), "text/plain")
            elif kind == "seed":
                point.event(mac, "seed")
                self._send(machine.seed, "application/x-tar")
            else:
                point.event(mac, what or "report")
                self._send(b"ok\n", "text/plain")

        def _file(self, path: str) -> None:
            target = (point.root / path.lstrip("/")).resolve()
            if not target.is_relative_to(point.root / "images") or not target.is_file():
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(target.stat().st_size))
            self.end_headers()
            with target.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    self.wfile.write(chunk)

        def _send(self, data: bytes, kind: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
