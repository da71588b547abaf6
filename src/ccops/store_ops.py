"""The store's tables, and the writes a Store applies: directly, or replayed from a run's spool.

A write is a plain JSON-able op (``{"op": "record_hosts", "run_id": ..., "rows": [...]}``) so the same
op can be applied now or kept in a spool file and applied later, in order; applying one twice gives
the same rows (INSERT OR REPLACE, UPDATE with the values the op carries, timestamps included).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ccops.asset_history import DEFAULT_KEEP_VERSIONS, pack, store_version, summary
from ccops.record_chain import create_chain, needs_chain, seal

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
CREATE TABLE IF NOT EXISTS asset_versions (
  host TEXT NOT NULL, run_id TEXT NOT NULL, collected TEXT NOT NULL, summary TEXT NOT NULL, record BLOB NOT NULL,
  PRIMARY KEY (host, run_id)
);
CREATE INDEX IF NOT EXISTS asset_versions_by_time ON asset_versions (host, collected);
CREATE INDEX IF NOT EXISTS host_results_by_host ON host_results (host);
"""


MIGRATIONS = {"runs": ("request TEXT", "plan TEXT", "pid INTEGER"), "host_results": ("report TEXT",)}


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Stores made by an older ccops gain the newer columns; nothing is dropped."""
    for table, columns in MIGRATIONS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for column in columns:
            if column.split()[0] not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


def needs_schema(db: sqlite3.Connection) -> bool:
    tables = {r[0]: r[1] for r in db.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")}
    if not {"runs", "host_results", "assets", "asset_versions"} <= set(tables) or needs_chain(db):
        return True
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    if not {"asset_versions_by_time", "host_results_by_host"} <= indexes:
        return True
    return any(
        column.split()[0] not in _columns(db, table) for table, columns in MIGRATIONS.items() for column in columns
    )


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def create_schema(db: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    _add_missing_columns(db)
    _seed_versions(db)
    create_chain(db)  # after the columns: adopted rows are sealed with all of theirs


def _seed_versions(db: sqlite3.Connection) -> None:
    """A store from before asset history: each host's latest record becomes its first version."""
    rows = db.execute(
        "SELECT a.host, a.run_id, a.collected, a.record FROM assets a WHERE NOT EXISTS"
        " (SELECT 1 FROM asset_versions v WHERE v.host = a.host)"
    ).fetchall()
    for host, run_id, collected, text in rows:
        try:
            record = json.loads(text)
        except (TypeError, ValueError):
            continue  # a damaged latest row stays readable as damaged; it has no history to start
        if isinstance(record, dict):
            db.execute(
                "INSERT OR IGNORE INTO asset_versions (host, run_id, collected, summary, record) VALUES (?,?,?,?,?)",
                (host, run_id, collected, json.dumps(summary(record, collected)), pack(record)),
            )


class MissingRun(Exception):
    """The store has no record of the run these writes belong to (a new store after a damaged one)."""


def apply_all(db: sqlite3.Connection, ops: list[dict[str, Any]]) -> None:
    for op in ops:
        if db.execute("SELECT 1 FROM runs WHERE id=?", (op["run_id"],)).fetchone() is None:
            raise MissingRun(op["run_id"])  # kept in the spool: host results without their run would be invisible
        APPLY[op["op"]](db, op)


def _apply_reopen_run(db: sqlite3.Connection, op: dict[str, Any]) -> None:
    db.execute(
        "UPDATE runs SET status='running', ended=NULL, exit_code=NULL, pid=? WHERE id=?", (op["pid"], op["run_id"])
    )
    seal(db, "run", op["run_id"])


def _apply_record_hosts(db: sqlite3.Connection, op: dict[str, Any]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO host_results (run_id, host, outcome, changed, message, wave, started, ended, report)"
        " VALUES (:run_id, :host, :outcome, :changed, :message, :wave, :started, :ended, :report)",
        op["rows"],
    )
    for row in op["rows"]:
        seal(db, "host", f"{op['run_id']}/{row['host']}")


def _apply_finish_run(db: sqlite3.Connection, op: dict[str, Any]) -> None:
    db.execute(
        "UPDATE runs SET ended=?, status=?, exit_code=?, message=? WHERE id=?",
        (op["ended"], op["status"], op["exit_code"], op["message"], op["run_id"]),
    )
    seal(db, "run", op["run_id"])


def _apply_save_assets(db: sqlite3.Connection, op: dict[str, Any]) -> None:
    """Each record becomes a version of its host (history.store_version); the newest is also the latest row.

    Replayed from a spool after newer inspections, an older record joins the history without
    taking the latest row's place.
    """
    keep = op.get("keep", DEFAULT_KEEP_VERSIONS)
    for host, run_id, collected, text in op["rows"]:
        enriched = store_version(db, host, run_id, collected, json.loads(text), keep)
        db.execute(
            "INSERT INTO assets (host, run_id, collected, record) VALUES (?,?,?,?) ON CONFLICT(host) DO UPDATE SET"
            " run_id=excluded.run_id, collected=excluded.collected, record=excluded.record"
            " WHERE excluded.collected >= assets.collected",
            (host, run_id, collected, enriched),
        )


def _apply_certificate(db: sqlite3.Connection, op: dict[str, Any]) -> None:
    db.execute(
        "INSERT OR REPLACE INTO certificates (run_id, host, issued, document, sha256) VALUES (?,?,?,?,?)",
        (op["run_id"], op["host"], op["issued"], op["document"], op["sha256"]),
    )
    seal(db, "certificate", f"{op['run_id']}/{op['host']}")


def _apply_approve_inventory(db: sqlite3.Connection, op: dict[str, Any]) -> None:
    """The run edited the inventory itself (decommission): its plan's file digests follow the edit."""
    db.execute(
        "UPDATE runs SET plan=json_set(plan, '$.inventory_files', json(?)) WHERE id=? AND json_valid(plan)",
        (json.dumps(op["files"]), op["run_id"]),
    )
    seal(db, "run", op["run_id"])


APPLY = {
    "approve_inventory": _apply_approve_inventory,
    "certificate": _apply_certificate,
    "reopen_run": _apply_reopen_run,
    "record_hosts": _apply_record_hosts,
    "finish_run": _apply_finish_run,
    "save_assets": _apply_save_assets,
}


def lost(op: dict[str, Any]) -> str:
    """What a refused write held, in the error line itself, so the user still has it."""
    if op["op"] == "record_hosts":
        return "host results " + ", ".join(f"{r['host']}={r['outcome']}" for r in op["rows"])
    if op["op"] == "finish_run":
        return f"run {op['run_id']} ended {op['status']} (exit {op['exit_code']})"
    return f"{op['op']} for run {op['run_id']}"
