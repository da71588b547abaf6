"""A node job's private ssh-agent, which dies with the controller however the controller dies.

The agent holds the batch's keys for one job and is forwarded to the node for that one ssh
session. Debian installs ssh-agent set-group-id: exec-ing it clears a parent-death signal
(``setpriv --pdeathsig``), so a SIGKILLed controller used to leave it running with the keys.
Three things now bound a key's life:

- a keeper process (``python -m ccops.node.agent``) is the agent's parent; it reads a pipe only
  the controller holds open and stops the agent the moment that pipe closes: a normal end,
  an exception, SIGKILL of the controller alike (the kernel closes a dead process's pipes);
- the agent and every key have a lifetime (``ssh-agent -t``, ``ssh-add -t``), in case the
  keeper is killed too;
- each agent is recorded next to its socket, in a private folder per run; the next job and
  ``ccops resume`` stop the agents of controllers that are gone and remove their sockets.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ccops.errors import CcopsError, EngineError
from ccops.processes import PROC, Process

AGENT_LIFETIME = 4 * 3600  # seconds: longer than any one batch, so a key never outlives an orphan by more
READY_TIMEOUT = 10.0
SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes with the final NUL


def agents_root() -> Path:
    """Where job agents' sockets live: short (a socket path holds 107 bytes) and private to this user."""
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    root = base / f"ccops-agents-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o700)
    info = root.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise EngineError(f"{root}: not a private folder of this user; remove it so ccops can make its own")
    return root


class JobAgent:
    """A private ssh-agent holding ``keys`` for the job ``ident`` of the run in ``run_dir``."""

    def __init__(self, keys: list[str], run_dir: Path, ident: str) -> None:
        sweep_stale_agents()
        self.folder = agents_root() / run_dir.name
        self.folder.mkdir(mode=0o700, exist_ok=True)
        self.socket = self.folder / f"{ident}.sock"
        self.record = self.folder / f"{ident}.json"
        if len(os.fsencode(self.socket)) > SOCKET_PATH_MAX:
            raise EngineError(f"{self.socket}: too long for a socket path; set XDG_RUNTIME_DIR or TMPDIR shorter")
        self.socket.unlink(missing_ok=True)  # left by an earlier attempt of this batch
        read_end, self._hold = os.pipe()  # the controller's end is not inherited by anything it starts
        try:
            self.keeper = subprocess.Popen(
                [sys.executable, "-m", "ccops.node.agent", str(self.socket), str(AGENT_LIFETIME)],
                stdin=read_end, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            os.close(self._hold)
            self._hold = -1
            raise EngineError(f"could not start the job's ssh agent: {exc.strerror or exc}") from None
        finally:
            os.close(read_end)
        assert self.keeper.stdout is not None  # noqa: S101 (a pipe)
        ready = self.keeper.stdout.readline().strip()  # the agent's pid once its socket answers
        if not ready.isdigit():
            self.stop()
            raise EngineError("could not start the job's ssh agent (is ssh-agent installed?)")
        self.agent_pid = int(ready)
        self.agent = Process.of(self.agent_pid)  # its identity: a pid alone may be another process later
        _write_record(self.record, self.keeper.pid, self.agent_pid, self.socket)
        for key in keys:
            added = subprocess.run(
                ["ssh-add", "-q", "-t", str(AGENT_LIFETIME), key],
                env={**os.environ, "SSH_AUTH_SOCK": str(self.socket)},
                capture_output=True, text=True, check=False, timeout=30, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            if added.returncode != 0:
                self.stop()
                raise CcopsError(f"could not give the job's ssh agent the key {key}: {added.stderr.strip()[:200]}")

    def stop(self) -> None:
        """Close the pipe: the keeper stops the agent and removes its socket."""
        if self._hold >= 0:
            os.close(self._hold)
            self._hold = -1  # closed once: the number may be another file's afterwards
        try:
            self.keeper.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.keeper.kill()
            self.keeper.wait()
        agent: Process | None = getattr(self, "agent", None)
        if agent is not None:
            _stop(agent)  # when the keeper could not (killed by someone); only that very process
        self.socket.unlink(missing_ok=True)
        self.record.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.folder.rmdir()  # only once the run's last agent is gone


def _write_record(path: Path, keeper: int, agent: int, socket: Path) -> None:
    processes = {"controller": Process.me(), "keeper": Process.of(keeper), "agent": Process.of(agent)}
    data = {name: p.as_dict() if p else None for name, p in processes.items()} | {"socket": str(socket)}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def sweep_stale_agents() -> list[int]:
    """Stop the agents (and keepers) of controllers that are gone; remove their sockets. Returns the agents' pids."""
    stopped: list[int] = []
    root = agents_root()
    for record in root.glob("*/*.json"):
        try:
            data: dict[str, Any] = json.loads(record.read_text())
            controller = Process(**data["controller"])
        except (OSError, ValueError, TypeError, KeyError):
            continue
        if controller.state() == "alive":
            continue  # a running job's (this or another ccops)
        for name in ("agent", "keeper"):
            with contextlib.suppress(TypeError, KeyError):
                process = Process(**data[name])
                if process.state() == "alive":
                    _stop(process)
                    stopped += [process.pid] if name == "agent" else []
        Path(str(data.get("socket", ""))).unlink(missing_ok=True)
        record.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            record.parent.rmdir()
    for orphan, socket in _legacy_orphans():
        _stop(orphan)
        stopped.append(orphan.pid)
        with contextlib.suppress(OSError):
            socket.unlink(missing_ok=True)
            socket.parent.rmdir()
    return stopped


def _legacy_orphans() -> list[tuple[Process, Path]]:
    """Agents an earlier ccops started as ``ssh-agent -D -a TMP/ccops-agent-XXXX/agent`` and left
    orphaned (parent pid 1) when its controller was killed: they had no record."""
    legacy = re.compile(re.escape(tempfile.gettempdir()) + r"/ccops-agent-[A-Za-z0-9_]{8}/agent")
    found = []
    for entry in PROC.iterdir():
        try:
            if not entry.name.isdigit() or entry.stat().st_uid != os.getuid():
                continue
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        socket = argv[argv.index("-a") + 1] if "-a" in argv[:-1] else ""
        if Path(argv[0]).name == "ssh-agent" and ppid == 1 and legacy.fullmatch(socket):
            found += [(p, Path(socket))] if (p := Process.of(int(entry.name))) else []
    return found


def _stop(process: Process) -> None:
    """SIGTERM (ssh-agent removes its socket), then SIGKILL; only the very process recorded."""
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        if process.state() != "alive":
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(process.pid, sig)
        deadline = time.monotonic() + wait
        while process.state() == "alive" and time.monotonic() < deadline:
            time.sleep(0.02)


def keep(socket: str, lifetime: int) -> int:
    """The keeper: start the agent, say its pid once it answers, stop it when stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the controller's to handle
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(1))
    agent = subprocess.Popen(
        ["ssh-agent", "-D", "-a", socket, "-t", str(lifetime)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not Path(socket).exists():
            if agent.poll() is not None or time.monotonic() > deadline:
                return 1
            time.sleep(0.01)
        print(agent.pid, flush=True)
        while agent.poll() is None:
            readable, _, _ = select.select([sys.stdin.fileno()], [], [], 1.0)
            if readable and not os.read(sys.stdin.fileno(), 64):
                break  # the controller closed its end, or is gone
        return 0
    finally:
        if agent.poll() is None:
            agent.terminate()
            try:
                agent.wait(timeout=5)
            except subprocess.TimeoutExpired:
                agent.kill()
                agent.wait()
        Path(socket).unlink(missing_ok=True)
        Path(socket).with_suffix(".json").unlink(missing_ok=True)  # its record: nothing left to sweep
        with contextlib.suppress(OSError):
            Path(socket).parent.rmdir()


if __name__ == "__main__":
    sys.exit(keep(sys.argv[1], int(sys.argv[2])))
