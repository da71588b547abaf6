"""Holds in the record store: one row per hold, kept after it is lifted (the history).

The table is created the first time a hold is written (``CREATE TABLE IF NOT EXISTS``, in
the store's own transaction); a store without it holds nothing. Reading the held set for
a policy (``held_names``) never creates a store: a missing store holds no host.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccops.store.records import Store

TABLE = (
    "CREATE TABLE IF NOT EXISTS quarantine_holds (id INTEGER PRIMARY KEY, host TEXT NOT NULL, site TEXT,"
    " since TEXT NOT NULL, reasons TEXT NOT NULL, automatic INTEGER NOT NULL, change_id TEXT, applied_run TEXT,"
    " lifted TEXT, lift_reason TEXT, lifted_run TEXT)"
)
# one hold in force per host
INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS quarantine_held ON quarantine_holds (host) WHERE lifted IS NULL"
COLUMNS = ("id", "host", "site", "since", "reasons", "automatic", "change_id", "applied_run", "lifted",
           "lift_reason", "lifted_run")  # fmt: skip


def now_text(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).isoformat(timespec="seconds")


@dataclass
class Hold:
    host: str
    site: str | None
    since: str
    reasons: list[str]
    automatic: bool
    change_id: str | None = None
    applied_run: str | None = None  # the comply --fix run that put the hold on the host
    lifted: str | None = None
    lift_reason: str | None = None
    lifted_run: str | None = None
    id: int | None = field(default=None, compare=False)

    @property
    def kind(self) -> str:
        return "automatic" if self.automatic else "manual"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind}


def _table_exists(db: sqlite3.Connection) -> bool:
    return bool(db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='quarantine_holds'").fetchone())


def _hold(row: sqlite3.Row) -> Hold | None:
    """A stored hold, or None for a row that does not read (hand edits, another tool)."""
    data = dict(zip(COLUMNS, row, strict=True))
    try:
        reasons = json.loads(data["reasons"])
    except (TypeError, ValueError):
        reasons = None
    if not isinstance(data["host"], str) or not isinstance(data["since"], str) or not isinstance(reasons, list):
        return None
    return Hold(**{**data, "reasons": [str(r) for r in reasons], "automatic": bool(data["automatic"])})


def holds(store: Store, active: bool = True) -> list[Hold]:
    """Holds in force (``active``), or every hold ever set, oldest first."""

    def read(db: sqlite3.Connection) -> list[Hold]:
        if not _table_exists(db):
            return []
        where = " WHERE lifted IS NULL" if active else ""
        rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM quarantine_holds{where} ORDER BY since, id")  # noqa: S608 (constant text)
        return [h for h in (_hold(r) for r in rows) if h is not None]

    return store.db.read(read)


def active_by_host(store: Store) -> dict[str, Hold]:
    return {h.host: h for h in holds(store)}


def held_names() -> frozenset[str]:
    """The hosts held now, read from this user's store without creating it (ccops.inventory.compliance asks)."""
    from ccops.paths import state_dir
    from ccops.store.db import Database, store_timeout

    path = state_dir() / "ccops.db"
    if not path.is_file():
        return frozenset()

    def read(db: sqlite3.Connection) -> frozenset[str]:
        if not _table_exists(db):
            return frozenset()
        return frozenset(str(r[0]) for r in db.execute("SELECT host FROM quarantine_holds WHERE lifted IS NULL"))

    return Database(path, store_timeout()).read(read)


def put(store: Store, new: list[Hold]) -> list[Hold]:
    """Record ``new`` holds. A host held already keeps its hold: a manual hold over an automatic one
    makes it manual; the reasons are joined. Returns the holds as stored now."""

    def write(db: sqlite3.Connection) -> list[Hold]:
        db.execute(TABLE)
        db.execute(INDEX)
        out = []
        for hold in new:
            row = db.execute(
                "SELECT id, reasons, automatic FROM quarantine_holds WHERE host=? AND lifted IS NULL", (hold.host,)
            ).fetchone()
            if row is None:
                cursor = db.execute(
                    "INSERT INTO quarantine_holds (host, site, since, reasons, automatic, change_id)"
                    " VALUES (?,?,?,?,?,?)",
                    (hold.host, hold.site, hold.since, json.dumps(hold.reasons), int(hold.automatic), hold.change_id),
                )
                out.append(_with(hold, id=cursor.lastrowid))
                continue
            try:
                before = [str(r) for r in json.loads(row[1])]
            except (TypeError, ValueError):
                before = []
            reasons = before + [r for r in hold.reasons if r not in before]
            automatic = bool(row[2]) and hold.automatic
            db.execute(
                "UPDATE quarantine_holds SET reasons=?, automatic=? WHERE id=?",
                (json.dumps(reasons), int(automatic), row[0]),
            )
            out.append(_with(hold, id=row[0], reasons=reasons, automatic=automatic))
        return out

    return store.db.write(write)


def lift(store: Store, hosts: dict[str, str], when: str) -> list[str]:
    """Lift the holds in force on ``hosts`` (host -> why); returns the hosts whose hold was lifted."""

    def write(db: sqlite3.Connection) -> list[str]:
        if not _table_exists(db):
            return []
        out = []
        for host, why in hosts.items():
            cursor = db.execute(
                "UPDATE quarantine_holds SET lifted=?, lift_reason=? WHERE host=? AND lifted IS NULL", (when, why, host)
            )
            if cursor.rowcount:
                out.append(host)
        return out

    return store.db.write(write)


def note_run(store: Store, hosts: list[str], run_id: str, lifted: bool) -> None:
    """Name the comply --fix run that applied (or lifted) the newest hold of each host."""
    column = "lifted_run" if lifted else "applied_run"

    def write(db: sqlite3.Connection) -> None:
        for host in hosts:
            db.execute(
                f"UPDATE quarantine_holds SET {column}=? WHERE id=(SELECT MAX(id) FROM quarantine_holds WHERE host=?)",  # noqa: S608 (a constant column)
                (run_id, host),
            )

    store.db.write(write)


def held_at(all_holds: list[Hold], site: str, when: str) -> int:
    """How many hosts of ``site`` were held at ``when`` (ISO text): the morning page's "held apart"."""
    return len(
        {h.host for h in all_holds if h.site == site and h.since <= when and (h.lifted is None or h.lifted > when)}
    )


def _with(hold: Hold, **changes: Any) -> Hold:
    return Hold(**{**asdict(hold), **changes})
