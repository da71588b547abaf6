"""Messages waiting for delivery, one private file each, and the record of every attempt.

The outbox is ``$CCOPS_HOME/notify/outbox`` (0700); each message is one JSON file
(0600) written whole or not at all (a temporary file renamed into place), so a crash
never leaves half a message. Attempts go to the store's own ``notify_attempts`` table,
so ``ccops notify status`` and a run's record tell what reached whom and when.
A message's file holds the rendered text, never a secret: channels are named, and
their secrets are read again at each delivery.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccops.locks import held_flock
from ccops.paths import private_dir, state_dir
from ccops.text import strict_json

if TYPE_CHECKING:
    from ccops.store.records import Store

MAX_MESSAGE_BYTES = 4 * 1024 * 1024
ATTEMPTS_TABLE = (
    "CREATE TABLE IF NOT EXISTS notify_attempts (message_id TEXT NOT NULL, run_id TEXT, channel TEXT NOT NULL,"
    " events TEXT, attempted TEXT NOT NULL, delivered INTEGER NOT NULL, error TEXT)"
)


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Message:
    id: str
    created: str
    channel: str
    inventory: str  # whose notify.yml names the channel
    run_id: str | None
    events: list[str]
    title: str
    body: str
    form: str
    risk_hours: float
    attempts: int = 0
    last_error: str | None = None
    last_attempt: str | None = None

    @classmethod
    def new(cls, **fields: Any) -> Message:
        return cls(id=uuid.uuid4().hex, created=now_text(), **fields)


def notify_dir() -> Path:
    return private_dir(state_dir() / "notify")


def read_state(name: str) -> Any:
    """A small private memory of what was already told (notify/NAME), or None when missing or unreadable."""
    with contextlib.suppress(OSError, ValueError):
        return json.loads((notify_dir() / name).read_text(encoding="utf-8"))
    return None


def write_state(name: str, value: Any) -> None:
    """Replace notify/NAME whole (0600): a crash leaves the old memory, never half of one."""
    path = notify_dir() / name
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(value, sort_keys=True))
    tmp.replace(path)


def outbox_dir() -> Path:
    return private_dir(notify_dir() / "outbox")


def write(message: Message, folder: Path | None = None) -> Path:
    """Put ``message`` in the outbox atomically (a reader sees the old file or the new one)."""
    folder = folder or outbox_dir()
    path = folder / f"{message.id}.json"
    tmp = folder / f".{message.id}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(strict_json.dumps(message.__dict__))
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def pending(folder: Path | None = None) -> list[Message]:
    """Every message not yet delivered, oldest first; a damaged file is skipped, never deleted."""
    folder = folder or outbox_dir()
    out = []
    for path in sorted(folder.glob("*.json")):
        with contextlib.suppress(OSError, ValueError, TypeError):
            if path.is_symlink() or path.stat().st_size > MAX_MESSAGE_BYTES:
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
            out.append(Message(**data))
    return sorted(out, key=lambda m: (m.created, m.id))


def remove(message: Message, folder: Path | None = None) -> None:
    ((folder or outbox_dir()) / f"{message.id}.json").unlink(missing_ok=True)


def flushing(folder: Path | None = None) -> contextlib.AbstractContextManager[bool]:
    """Whether this process may deliver now: one flush at a time, so no message goes out twice."""
    return held_flock((folder or outbox_dir()) / ".flush.lock")


def record_attempt(store: Store, message: Message, error: str | None) -> None:
    def insert(db: sqlite3.Connection) -> None:
        db.execute(ATTEMPTS_TABLE)
        db.execute(
            "INSERT INTO notify_attempts (message_id, run_id, channel, events, attempted, delivered, error)"
            " VALUES (?,?,?,?,?,?,?)",
            (
                message.id,
                message.run_id,
                message.channel,
                ",".join(message.events),
                now_text(),
                int(error is None),
                error,
            ),
        )

    store.db.write(insert)


def attempts(store: Store, run_id: str | None = None) -> list[dict[str, Any]]:
    def read(db: sqlite3.Connection) -> list[dict[str, Any]]:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='notify_attempts'").fetchone():
            return []
        query = "SELECT message_id, run_id, channel, events, attempted, delivered, error FROM notify_attempts"
        rows = db.execute(
            query + (" WHERE run_id=?" if run_id else "") + " ORDER BY rowid", (run_id,) if run_id else ()
        )
        keys = ("message", "run", "channel", "events", "attempted", "delivered", "error")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    return store.db.read(read)
