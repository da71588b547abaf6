"""Processes ccops started, named so that a reused pid or another machine is never mistaken for them.

A pid alone is not an identity: once a process dies the kernel hands its
number to the next one. A process here is its pid plus its start time (clock
ticks since boot, /proc/PID/stat field 22), the boot it belongs to and the
machine it runs on; only a process matching all four is the one recorded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

PROC = Path("/proc")


@cache
def boot_id() -> str:
    try:
        return (PROC / "sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


@cache
def machine_id() -> str:
    """This machine, as a lock remembers it: machine-id (when there is one) and host name.

    The host name is part of it because cloned jump hosts can share a machine-id.
    """
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        with contextlib.suppress(OSError):
            text = Path(path).read_text().strip()
            if text:
                return f"{text}/{socket.gethostname()}"
    return socket.gethostname()


def start_ticks(pid: int) -> int | None:
    """When a live process started (ticks since boot); None if there is none, or only its zombie."""
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):  # exited: waiting to be reaped is not running
        return None
    return int(fields[19])


def started_epoch(pid: int) -> float | None:
    """A live process's start as a Unix time (for records that kept only a pid)."""
    ticks = start_ticks(pid)
    if ticks is None:
        return None
    try:
        btime = next(
            int(line.split()[1]) for line in (PROC / "stat").read_text().splitlines() if line.startswith("btime ")
        )
    except (OSError, StopIteration):
        return None
    return btime + ticks / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Process:
    pid: int
    started: int  # ticks since boot
    boot: str
    machine: str  # machine_id()

    @classmethod
    def of(cls, pid: int) -> Process | None:
        ticks = start_ticks(pid)
        return None if ticks is None else cls(pid, ticks, boot_id(), machine_id())

    @classmethod
    def me(cls) -> Process:
        me = cls.of(os.getpid())
        assert me is not None  # noqa: S101 - this process is running
        return me

    @property
    def host_name(self) -> str:
        return self.machine.rsplit("/", 1)[-1]

    def state(self) -> str:
        """alive; dead (gone, or the machine restarted since); reused (its pid is another
        process now); elsewhere (another machine: nothing here can tell)."""
        if self.machine != machine_id():
            return "elsewhere"
        if self.boot != boot_id():
            return "dead"
        ticks = start_ticks(self.pid)
        if ticks is None:
            return "dead"
        return "alive" if ticks == self.started else "reused"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ansible_playbooks(matches: Callable[[list[str]], bool]) -> dict[int, int]:
    """This user's ansible-playbook processes (pid -> parent pid) whose argv ``matches``.

    Ansible's workers are forks of the playbook process: they carry the same command line.
    """
    found: dict[int, int] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            if any(Path(a).name == "ansible-playbook" for a in argv[:2]) and matches(argv):
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return found


def ansible_processes(run_dir: Path) -> list[Process]:
    """ansible-playbook processes of this user working for a run folder (their --limit file is in it).

    This finds an Ansible that was killed-controller-orphaned before ccops could record its pid.
    """
    marker = f"@{run_dir}/limit-"
    parents = _ansible_playbooks(lambda argv: any(a.startswith(marker) for a in argv))
    # only the playbook process itself counts, not its forked workers
    found = [Process.of(pid) for pid, parent in parents.items() if parent not in parents]
    return [p for p in found if p is not None]


def stop_batch_leftovers(limit_file: Path) -> int:
    """Kill what is left of a batch's Ansible once the batch is over; returns how many.

    Ansible's workers call setsid(): stopping the playbook process's group (as ansible-runner
    does when a run is cancelled) does not reach them, and one may go on working on its host
    unsupervised. The batch's own --limit file (unique to the batch attempt) names them.
    """
    marker = f"@{limit_file}"
    stopped = 0
    for pid in _ansible_playbooks(lambda argv: marker in argv):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            stopped += 1
    return stopped


def wait_or_stop(
    process: Process, timeout: float, say: Callable[[str], None], grace: float = 15.0, poll: float = 1.0
) -> str:
    """Wait up to ``timeout`` seconds for a process to end, then stop its process group.

    Returns how it ended: "finished" or "stopped". SIGTERM first, SIGKILL after ``grace``
    seconds; the group, because Ansible's workers and ssh share its group (pexpect made the
    ansible-playbook process a session leader).
    """
    deadline = time.monotonic() + timeout
    while process.state() == "alive":
        if time.monotonic() >= deadline:
            break
        time.sleep(poll)
    else:
        return "finished"
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        if process.state() != "alive":
            break
        say(f"stopping Ansible pid {process.pid} ({sig.name})")
        _signal_group(process.pid, sig)
        end = time.monotonic() + wait
        while process.state() == "alive" and time.monotonic() < end:
            time.sleep(0.2)
    if process.state() == "alive":
        from ccops.errors import CcopsError

        raise CcopsError(
            f"Ansible pid {process.pid} left by an earlier attempt does not stop; stop it by hand, then resume again"
        )
    return "stopped"


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
