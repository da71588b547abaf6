"""Whether a lab host has booted, whether its boot stalled, and a quiet sshd probe.

A host is up when systemd says its boot finished (running or degraded), sshd
has made its host key and answers. A boot has stalled when nothing about it
(systemd's state, its queued jobs, the host key, sshd) changed for
STALL_SECONDS, or when it has not finished BOOT_DEADLINE seconds after it
began: ``lab up`` then recreates the host.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from ccops.lab.podman import podman

STALL_SECONDS = 40.0
BOOT_DEADLINE = 180.0
FINISHED = ("running", "degraded")
# one exec per look: three sections separated by a line holding only "--"
LOOK = (
    "systemctl is-system-running; echo --; systemctl list-jobs --no-legend; echo --; "
    "cat /etc/ssh/ssh_host_ed25519_key.pub"
)
# what the probe says it is, and how it leaves: a client that closes before sending its
# identification makes sshd log "kex_exchange_identification" errors in the host's journal
PROBE_IDENT = b"SSH-2.0-ccops_lab_probe\r\n"
SSH_MSG_DISCONNECT = 1
SSH_DISCONNECT_BY_APPLICATION = 11


@dataclass(frozen=True)
class BootState:
    system: str  # systemctl is-system-running: initializing, starting, running, degraded, ...
    jobs: tuple[str, ...]  # systemd's queued jobs
    host_key: str  # the ed25519 public key, "" until sshd's ExecStartPre made it
    sshd: bool  # sshd answered with its identification

    @property
    def up(self) -> bool:
        return self.system in FINISHED and self.host_key.startswith("ssh-ed25519 ") and self.sshd

    def describe(self) -> str:
        return (
            f"systemd {self.system or 'not answering'}, {len(self.jobs)} job(s) queued, "
            f"sshd {'answers' if self.sshd else 'not answering'}"
        )


def parse_look(output: str, sshd: bool) -> BootState:
    sections: list[list[str]] = [[]]
    for line in output.splitlines():
        if line.strip() == "--":
            sections.append([])
        elif line.strip():
            sections[-1].append(line.strip())
    system, jobs, key = [*sections, [], [], []][:3]
    return BootState(system=" ".join(system), jobs=tuple(jobs), host_key=" ".join(key), sshd=sshd)


def look(container: str, address: str) -> BootState:
    return parse_look(podman("exec", container, "sh", "-c", LOOK, check=False, timeout=30), sshd_answers(address))


class BootWatch:
    """Told what a boot looks like over time; says when it counts as stalled, and why."""

    def __init__(self, started: float, stall_seconds: float = STALL_SECONDS, deadline: float = BOOT_DEADLINE) -> None:
        self.started = started
        self.stall_seconds = stall_seconds
        self.deadline = deadline
        self.last: BootState | None = None
        self.changed = started

    def stalled(self, state: BootState, now: float) -> str | None:
        if state != self.last:
            self.last, self.changed = state, now
        if now - self.changed >= self.stall_seconds:
            return f"boot stalled: no progress for {self.stall_seconds:.0f}s ({state.describe()})"
        if now - self.started >= self.deadline:
            return f"boot not finished after {self.deadline:.0f}s ({state.describe()})"
        return None


def disconnect_packet(reason: str = "ccops lab probe done") -> bytes:
    """An SSH_MSG_DISCONNECT in the clear (RFC 4253 6 and 11.1), as allowed before key exchange."""
    text = reason.encode()
    payload = (
        struct.pack(">BI", SSH_MSG_DISCONNECT, SSH_DISCONNECT_BY_APPLICATION)
        + struct.pack(">I", len(text))
        + text
        + struct.pack(">I", 0)
    )
    padding = 8 - (5 + len(payload)) % 8
    if padding < 4:
        padding += 8
    return struct.pack(">IB", 1 + len(payload) + padding, padding) + payload + bytes(padding)


def sshd_answers(address: str, port: int = 22, timeout: float = 2.0) -> bool:
    """True when an SSH server answers on address:port.

    The probe identifies itself and disconnects "by application", which sshd
    logs at info level only, then waits for sshd to close first.
    """
    try:
        with socket.create_connection((address, port), timeout=timeout) as conn:
            if not _read_line(conn).startswith(b"SSH-"):
                return False
            conn.sendall(PROBE_IDENT + disconnect_packet())
            conn.shutdown(socket.SHUT_WR)
            try:
                while conn.recv(4096):
                    pass  # sshd's key exchange offer, then its end of the connection
            except OSError:
                pass  # the answer already came; how the server closes is its business
            return True
    except OSError:
        return False


def _read_line(conn: socket.socket, limit: int = 255) -> bytes:
    line = b""
    while not line.endswith(b"\n") and len(line) < limit:
        chunk = conn.recv(1)
        if not chunk:
            break
        line += chunk
    return line
