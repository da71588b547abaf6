"""Whether a lab host has booted, whether its boot stalled.

A host is up when systemd says its boot finished (running or degraded), sshd
has made its host key and answers. A boot has stalled when nothing about it
(systemd's state, its queued jobs, the host key, sshd) changed for
STALL_SECONDS, or when it has not finished BOOT_DEADLINE seconds after it
began: ``lab up`` then recreates the host.
"""

from __future__ import annotations

from dataclasses import dataclass

from ccops.lab.podman import podman
from ccops.runner.sshprobe import sshd_answers

STALL_SECONDS = 40.0
BOOT_DEADLINE = 180.0
FINISHED = ("running", "degraded")
# one exec per look: three sections separated by a line holding only "--"
LOOK = (
    "systemctl is-system-running; echo --; systemctl list-jobs --no-legend; echo --; "
    "cat /etc/ssh/ssh_host_ed25519_key.pub"
)


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
