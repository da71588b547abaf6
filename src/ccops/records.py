"""Run history and asset records in an embedded SQLite store.

Every write is one transaction, so an interrupted run leaves either the old
or the new state, never a torn record. Nothing here stores a secret: callers
pass outcomes and reports, never variables or environments.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, verb TEXT NOT NULL, operator TEXT NOT NULL, change_id TEXT,
  git_commit TEXT, inventory TEXT NOT NULL, inventory_sha256 TEXT NOT NULL,
  selectors TEXT NOT NULL, started TEXT NOT NULL, ended TEXT, status TEXT NOT NULL,
  exit_code INTEGER, message TEXT, request TEXT, plan TEXT, pid INTEGER
);
CREATE TABLE IF NOT EXISTS host_results (
  run_id TEXT NOT NULL REFERENCES runs(id), host TEXT NOT NULL, outcome TEXT NOT NULL,
  changed INTEGER NOT NULL DEFAULT 0, message TEXT, wave TEXT, started TEXT, ended TEXT, report TEXT,
  PRIMARY KEY (run_id, host)
);
CREATE TABLE IF NOT EXISTS assets (
  host TEXT PRIMARY KEY, run_id TEXT NOT NULL, collected TEXT NOT NULL, record TEXT NOT NULL
);
"""


MIGRATIONS = {"runs": ("request TEXT", "plan TEXT", "pid INTEGER"), "host_results": ("report TEXT",)}


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Stores made by an older ccops gain the newer columns; nothing is dropped."""
    for table, columns in MIGRATIONS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for column in columns:
            if column.split()[0] not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class RunRecord:
    id: str
    verb: str
    operator: str
    change_id: str | None
    git_commit: str | None
    inventory: str
    inventory_sha256: str
    selectors: dict
    started: str
    ended: str | None
    status: str
    exit_code: int | None
    message: str | None
    request: dict
    plan: list
    pid: int | None
    hosts: list[dict]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(self._connect()) as db, db:
            db.executescript(SCHEMA)
            _add_missing_columns(db)
        path.chmod(0o600)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    def start_run(self, run_id: str, verb: str, *, operator: str, change_id: str | None,
                  git_commit: str | None, inventory: str, inventory_sha256: str, selectors: dict,
                  request: dict, plan: list) -> None:
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO runs (id, verb, operator, change_id, git_commit, inventory, inventory_sha256,"
                " selectors, started, status, request, plan, pid) VALUES (?,?,?,?,?,?,?,?,?, 'running',?,?,?)",
                (run_id, verb, operator, change_id, git_commit, inventory, inventory_sha256,
                 json.dumps(selectors, sort_keys=True), now(), json.dumps(request), json.dumps(plan),
                 os.getpid()))

    def reopen_run(self, run_id: str) -> None:
        """A resumed run is running again, under this process."""
        with closing(self._connect()) as db, db:
            db.execute("UPDATE runs SET status='running', ended=NULL, exit_code=NULL, pid=? WHERE id=?",
                       (os.getpid(), run_id))

    def record_hosts(self, run_id: str, results: list[dict]) -> None:
        with closing(self._connect()) as db, db:
            db.executemany(
                "INSERT OR REPLACE INTO host_results"
                " (run_id, host, outcome, changed, message, wave, started, ended, report)"
                " VALUES (:run_id, :host, :outcome, :changed, :message, :wave, :started, :ended, :report)",
                [{"run_id": run_id, "wave": None, "started": None, "ended": None, **r,
                  "report": json.dumps(r.get("report")) if r.get("report") is not None else None}
                 for r in results])

    def finish_run(self, run_id: str, status: str, exit_code: int, message: str | None = None) -> None:
        with closing(self._connect()) as db, db:
            db.execute("UPDATE runs SET ended=?, status=?, exit_code=?, message=? WHERE id=?",
                       (now(), status, exit_code, message, run_id))

    def runs(self, limit: int = 20, verb: str | None = None) -> list[RunRecord]:
        where = " WHERE verb=?" if verb else ""  # constant text; values are bound parameters
        query = f"SELECT * FROM runs{where} ORDER BY started DESC, id DESC LIMIT ?"  # noqa: S608
        args: tuple = (verb, limit) if verb else (limit,)
        with closing(self._connect()) as db:
            return [self._run(db, row, with_hosts=False) for row in db.execute(query, args)]

    def run(self, run_id: str) -> RunRecord | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM runs WHERE id=?", (run_id,)).fetchone()
            if row is None:
                row = db.execute("SELECT * FROM runs WHERE id LIKE ? ORDER BY id DESC", (run_id + "%",)).fetchone()
            return self._run(db, row, with_hosts=True) if row else None

    def _run(self, db: sqlite3.Connection, row: sqlite3.Row, with_hosts: bool) -> RunRecord:
        data = dict(row)
        data["selectors"] = json.loads(data["selectors"])
        data["request"] = json.loads(data["request"] or "{}")
        data["plan"] = json.loads(data["plan"] or "[]")
        hosts = []
        if with_hosts:
            hosts = [dict(r) for r in db.execute(
                "SELECT host, outcome, changed, message, wave, started, ended, report FROM host_results"
                " WHERE run_id=? ORDER BY rowid", (row["id"],))]
            for host in hosts:
                host["report"] = json.loads(host["report"]) if host["report"] else None
        else:
            counts = db.execute("SELECT outcome, COUNT(*) FROM host_results WHERE run_id=? GROUP BY outcome",
                                (row["id"],)).fetchall()
            hosts = [{"outcome": o, "count": n} for o, n in counts]
        return RunRecord(**data, hosts=hosts)

    def save_assets(self, run_id: str, reports: dict[str, dict]) -> None:
        collected = now()
        with closing(self._connect()) as db, db:
            db.executemany("INSERT OR REPLACE INTO assets (host, run_id, collected, record) VALUES (?,?,?,?)",
                           [(h, run_id, collected, json.dumps(r, sort_keys=True)) for h, r in reports.items()])

    def asset(self, host: str) -> dict | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT * FROM assets WHERE host=?", (host,)).fetchone()
        if row is None:
            return None
        return {"host": row["host"], "run_id": row["run_id"], "collected": row["collected"],
                "record": json.loads(row["record"])}

    def host_history(self, host: str, limit: int = 10) -> list[dict]:
        with closing(self._connect()) as db:
            return [dict(r) for r in db.execute(
                "SELECT h.run_id, r.verb, h.outcome, h.message, h.ended FROM host_results h"
                " JOIN runs r ON r.id = h.run_id WHERE h.host=? ORDER BY r.started DESC LIMIT ?", (host, limit))]
