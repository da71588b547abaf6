"""A site of hosts on 127.0.0.9 that never answer: real runs that end fast, on loopback only.

Each host's port is either bound but not listening (a connection is refused:
the host is unreachable at once) or a silent listener that accepts and never
speaks (ssh waits for a banner: the run is mid-batch for as long as the test
needs, and the accept is the marker that it got there).
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from tests.conftest import write_inventory

ADDRESS = "127.0.0.9"

SITE = """\
site:
  code: lo
  name: Loopback test centre
  city: testcity
  timezone: UTC
  maintenance_windows: [{{days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "00:00"}}]
  backup_target: {{host: localhost, path: /nonexistent/ccops-backups}}
  rollout: {{canary: 1, waves: ["100%"], batch_size: 1, max_fail_percentage: 0}}
connections:
  linux: {{type: ssh, user: ccops, become: true}}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: lo-t[01:{count:02d}]
{overrides}"""


def loopback_inventory(folder: Path, ports: list[int], retiring: tuple[str, ...] = ()) -> Path:
    """Hosts lo-t01.. at 127.0.0.9, one per port; ``retiring`` hosts are in lifecycle retiring."""
    names = [f"lo-t{i:02d}" for i in range(1, len(ports) + 1)]
    overrides = "hosts:\n" + "".join(
        f"  {n}: {{address: {ADDRESS}, port: {port}" + (", lifecycle: retiring" if n in retiring else "") + "}\n"
        for n, port in zip(names, ports, strict=True)
    )
    return write_inventory(folder, {"lo.yml": SITE.format(count=len(ports), overrides=overrides)})


class ClosedPort:
    """A loopback port bound and held, never listening: connecting is refused, nobody else can take it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((ADDRESS, 0))
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()


class SilentListener(ClosedPort):
    """Accepts connections and never sends a byte; ``connected`` is set at the first accept."""

    def __init__(self) -> None:
        super().__init__()
        self.sock.listen(8)
        self.connected = threading.Event()
        self.peers: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                peer, _ = self.sock.accept()
            except OSError:  # closed by the test
                return
            self.peers.append(peer)
            self.connected.set()

    def close(self) -> None:
        for peer in self.peers:
            peer.close()
        super().close()
