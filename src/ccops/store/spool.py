"""Writes the store refused, kept in the run's folder until the store takes them.

A run must not lose a batch's host results because the store was busy at
that moment. Each refused write becomes one JSON line in
``runs/RUN/store-pending.jsonl``; the run's next write and every Store open
replay the lines in order and then remove the file. An exclusive flock on the
file keeps an appender and a replayer from interleaving; the inode check
catches a file replayed and removed between open and lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPOOL_NAME = "store-pending.jsonl"


@dataclass
class Spool:
    path: Path
    fd: int | None  # None: there is no spool file (nothing pending)
    ops: list[dict[str, Any]] = field(default_factory=list)
    unreadable: int = 0  # lines that are not JSON ops (a crash mid-write): kept aside, never dropped

    def append(self, op: dict[str, Any]) -> None:
        if self.fd is None:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        os.write(self.fd, (json.dumps(op, sort_keys=True, default=str) + "\n").encode())
        os.fsync(self.fd)
        self.ops.append(op)

    def done(self) -> None:
        """Every op reached the store: the file goes (kept under another name if some lines were unreadable)."""
        if self.fd is None:
            return
        try:
            if self.unreadable:
                self.path.replace(self.path.with_name(f"store-pending.{time.time_ns()}.unreadable"))
            else:
                self.path.unlink(missing_ok=True)
        except OSError:
            with suppress(OSError):  # cannot remove it: empty it, so no op is replayed over newer writes
                os.ftruncate(self.fd, 0)
        self.ops = []


def spool_path(runs_dir: Path, run_id: str) -> Path:
    return runs_dir / run_id / SPOOL_NAME


def _read(fd: int) -> tuple[list[dict[str, Any]], int]:
    with os.fdopen(os.dup(fd), "rb") as file:
        lines = file.read().splitlines()
    ops, bad = [], 0
    for line in lines:
        try:
            op = json.loads(line)
        except ValueError:
            op = None
        if isinstance(op, dict) and isinstance(op.get("op"), str):
            ops.append(op)
        elif line.strip():
            bad += 1
    return ops, bad


def _open_current(path: Path, wait: bool) -> int | None:
    """The spool file at ``path``, exclusively locked, or None; BlockingIOError if held and not ``wait``."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            if path.stat().st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass  # replayed and removed while we waited for the lock: look again
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


@contextmanager
def locked(path: Path, wait: bool = True) -> Iterator[Spool | None]:
    """The spool at ``path``, locked; its ``fd`` is None when nothing is pending.

    None when the spool cannot be used: another process holds it (with ``wait=False``; that
    process is flushing it) or it cannot be opened for writing.
    """
    try:
        fd = _open_current(path, wait)
    except OSError:  # held by another process (wait=False), or not writable here (a read-only mount)
        yield None
        return
    spool = Spool(path, fd)
    try:
        if fd is not None:
            spool.ops, spool.unreadable = _read(fd)
        yield spool
    finally:
        if spool.fd is not None:
            os.close(spool.fd)


def pending(runs_dir: Path) -> list[Path]:
    try:
        return sorted(runs_dir.glob(f"*/{SPOOL_NAME}"))
    except OSError:
        return []
