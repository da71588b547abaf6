"""Talking to the SQLite store: waits for a busy store, and one clear line when it fails.

Every SQLite failure a user can meet (busy, read-only, full, damaged, not a
file) becomes a ``StoreError`` naming the file and what to do about it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import time
from collections.abc import Callable
from contextlib import closing, suppress
from pathlib import Path
from typing import TypeVar

from ccops.errors import CcopsError

T = TypeVar("T")
DEFAULT_TIMEOUT = 30.0  # seconds a command waits for a store another ccops holds
BUSY, LOCKED, READONLY, PERM, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB = 5, 6, 8, 3, 10, 11, 13, 14, 26


class StoreError(CcopsError):
    """The record store cannot be read or written; the message says what to do."""


class StoreBusy(StoreError):
    """Another process held the store for longer than this one waits."""


class BadText(str):
    """Text in the store that is not UTF-8: shown with replacement characters, flagged as damaged."""


def _text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return BadText(raw.decode("utf-8", "replace"))


def store_timeout() -> float:
    """``CCOPS_STORE_TIMEOUT`` seconds, else 30; a bad value is an error, not a silent default."""
    raw = os.environ.get("CCOPS_STORE_TIMEOUT", "")
    if not raw.strip():
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise StoreError(f"CCOPS_STORE_TIMEOUT={raw!r}: give a number of seconds between 0 and 86400")
    return value


def _code(exc: sqlite3.Error) -> int:
    return (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


def is_busy(exc: sqlite3.Error) -> bool:
    return _code(exc) in (BUSY, LOCKED) or "locked" in str(exc)


def mount_point(path: Path) -> Path:
    path = path.resolve()
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


def _nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < 1024 * 1024
    except OSError:
        return False


def explain(exc: sqlite3.Error, path: Path, waited: float) -> StoreError:
    """The one line a user sees for a SQLite failure on the store at ``path``."""
    code, detail = _code(exc), str(exc)
    aside = f"move it aside (mv {path} {path}.damaged) and ccops starts a new store"
    if is_busy(exc):
        return StoreBusy(
            f"{path}: another ccops holds the store; waited {waited:.0f} s; try again when it "
            "has finished (CCOPS_STORE_TIMEOUT sets the wait)"
        )
    if code == FULL or (code == IOERR and _nearly_full(path)):
        return StoreError(
            f"{path}: no space left for the store ({detail}); free space on {mount_point(path)} and run ccops again"
        )
    if code in (READONLY, PERM) or (code == CANTOPEN and path.exists() and not os.access(path.parent, os.W_OK)):
        return StoreError(
            f"{path}: the store is read-only ({detail}); make it and its folder writable for "
            "this user, or set CCOPS_HOME to a writable folder"
        )
    if code in (CORRUPT, NOTADB):
        return StoreError(f"{path}: the store is damaged ({detail}); {aside}")
    if code == IOERR:
        return StoreError(f"{path}: the store could not be read or written ({detail}); check the disk, or {aside}")
    return StoreError(f"{path}: the store failed ({detail}); check the file and its folder, or {aside}")


def refuse_non_file(path: Path) -> None:
    """A directory, FIFO or device where the store belongs is refused before SQLite touches it."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the store ({exc.strerror}); check the file and its folder") from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise StoreError(
            f"{path}: {kind} where the store belongs; move it aside (mv {path} {path}.bad) and ccops starts a new store"
        )


def create_private(path: Path) -> None:
    """The store file exists, readable by this user only (journal files copy its mode)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():  # a read-only store is still read: no O_CREAT on a file that exists
            with suppress(FileExistsError):
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC
            raise StoreError(
                f"{path}: no space left to create the store; free space on {mount_point(path.parent)}"
                " and run ccops again"
            ) from None
        raise StoreError(
            f"{path}: cannot create or protect the store ({exc.strerror}); make its folder "
            "writable for this user, or set CCOPS_HOME to a writable folder"
        ) from None


class Database:
    """Short-lived connections to one store file, each attempt retried while the store is busy."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout

    def _connect(self, wait: float) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=wait, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.text_factory = _text  # undecodable text marks a row damaged instead of failing the query
        return db

    def transaction(self, work: Callable[[sqlite3.Connection], T], write: bool) -> T:
        """Run ``work`` in one transaction; busy: back off and retry until the timeout, then StoreBusy."""
        start = time.monotonic()
        delay = 0.05
        while True:
            remaining = self.timeout - (time.monotonic() - start)
            try:
                with closing(self._connect(max(0.05, min(2.0, remaining)))) as db:
                    db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                    result = work(db)
                    db.execute("COMMIT")  # closing without COMMIT rolls back
                    return result
            except sqlite3.Error as exc:
                waited = time.monotonic() - start
                if is_busy(exc) and waited + delay < self.timeout:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                raise explain(exc, self.path, waited) from exc

    def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return self.transaction(work, write=False)

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return self.transaction(work, write=True)
