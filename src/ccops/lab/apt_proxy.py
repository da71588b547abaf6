"""The lab's way to its Debian archive: a forward proxy on the lab network's gateway.

Lab hosts sit on an internal network with no route out, yet their `-updates`
and `-security` suites must answer so that patching has something real to do.
This proxy listens on the gateway address only and forwards plain HTTP GET/HEAD
(and CONNECT on 443) to the hosts named in this machine's own apt sources,
nothing else: a lab host can reach the archive this machine uses and no other
address. It runs as one process per machine, like the lab itself; `lab up`
starts it, `lab down` stops it.

    python -m ccops.lab.apt_proxy LISTEN_ADDRESS PORT PIDFILE
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from ccops.errors import LabError
from ccops.image.sources import machine_uris

PORT = 3142
IP_FREEBIND = 15  # Linux: bind the gateway address before podman has brought the bridge up


def pidfile() -> Path:
    return Path(tempfile.gettempdir()) / f"ccops-lab-apt-proxy-{os.getuid()}.pid"


def allowed_upstreams() -> set[tuple[str, int]]:
    """(host, port) of this machine's apt sources: the only places the proxy forwards to."""
    allowed = set()
    for uri in machine_uris():
        if uri:
            parts = urlsplit(uri)
            if parts.hostname:
                allowed.add((parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)))
                allowed.add((parts.hostname, 443))
    return allowed


class Proxy:
    def __init__(self, allowed: set[tuple[str, int]]) -> None:
        self.allowed = allowed

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            await self._serve(head, reader, writer)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line, _, rest = head.partition(b"\r\n")
        parts = request_line.decode("latin-1").split()
        method, target, version = parts if len(parts) == 3 else ("", "", "")
        if method == "CONNECT":
            host, _, port_text = target.rpartition(":")
            port = int(port_text) if port_text.isdigit() else 0
            first = b""
        elif method in ("GET", "HEAD") and target.startswith("http://"):
            url = urlsplit(target)
            host, port = url.hostname or "", url.port or 80
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            first = f"{method} {path} {version}\r\n".encode("latin-1") + rest
        else:
            await _answer(writer, 405, "only GET and HEAD of http:// URLs, and CONNECT")
            return
        if (host, port) not in self.allowed:
            await _answer(writer, 403, f"{host}:{port} is not one of this machine's apt sources")
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
        except (OSError, TimeoutError):
            await _answer(writer, 502, f"cannot reach {host}:{port}")
            return
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            up_writer.write(first)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    except OSError:
        pass
    finally:
        sink.close()


async def _answer(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    data = text.encode() + b"\n"
    writer.write(f"HTTP/1.1 {status} ccops\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode())
    writer.write(data)
    await writer.drain()


async def serve(address: str, port: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
    sock.bind((address, port))
    server = await asyncio.start_server(Proxy(allowed_upstreams()).handle, sock=sock)
    async with server:
        await server.serve_forever()


def running() -> int | None:
    """The proxy's pid when it runs (its pid file names a live ccops proxy), else None."""
    try:
        pid = int(pidfile().read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"ccops.lab.apt_proxy" in cmdline else None


def start(address: str, port: int = PORT) -> None:
    """Start the proxy unless it runs; wait until it answers."""
    if running():
        return
    with pidfile().with_suffix(".log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ccops.lab.apt_proxy", address, str(port)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # outlives this command, like the lab's containers
        )
    pidfile().write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise LabError(f"the lab's apt proxy exited at start; see {pidfile().with_suffix('.log')}")
        try:
            with socket.create_connection((address, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise LabError(f"the lab's apt proxy did not answer on {address}:{port}")


def stop() -> None:
    pid = running()
    if pid:
        os.kill(pid, signal.SIGTERM)
    pidfile().unlink(missing_ok=True)


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2])))
