"""The store's tables, and the writes a Store applies: directly, or replayed from a run's spool.

Reports and asset records are kept as content-addressed parts (record_parts): a row names its
value by the sha256 of its manifest (``report_sha256``, ``record_sha256``); the older columns
(``report``, ``record``) hold only rows written by an older ccops or by hand. A store in the older
shape is migrated when it is first opened (``migrate``, in the opening transaction, after a backup).

A write is a plain JSON-able op (``{"op": "record_hosts", "run_id": ..., "rows": [...]}``) so the same
op can be applied now or kept in a spool file and applied later, in order; applying one twice gives
the same rows (INSERT OR REPLACE, UPDATE with the values the op carries, timestamps included).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from ccops.store.asset_history import (
    DEFAULT_KEEP_VERSIONS,
    WHOLE_RECORD_VERBS,
    compliance_entry,
    note_compliance,
    pack_summary,
    prune_reports,
    pruned_until,
    store_version,
    summary,
    unpack,
)
from ccops.store.chain import create_chain, matches, needs_chain, newest_seals, note_migration, seal, seal_hosts
from ccops.store.parts import PARTS_SCHEMA, get, manifest_inline, put, release, retain
from ccops.verbs import recorded_verb

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
CREATE TABLE IF NOT EXISTS compliance_latest (
  host TEXT PRIMARY KEY, run_id TEXT NOT NULL, started TEXT NOT NULL, checked TEXT NOT NULL, deviations TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS retention (scope TEXT PRIMARY KEY, until TEXT NOT NULL);
"""
# retention finds a host's versions still kept whole without reading its others (after the columns it names)
WHOLE_INDEX = (
    "CREATE INDEX IF NOT EXISTS asset_versions_whole ON asset_versions (host, collected, run_id)"
    " WHERE record_sha256 IS NOT NULL OR length(record) > 0"
)
INDEXES = ("asset_versions_by_time", "asset_versions_whole", "host_results_by_host")
TABLES = {"runs", "host_results", "assets", "asset_versions", "parts", "compliance_latest", "retention"}

MIGRATIONS = {
    "runs": ("request TEXT", "plan TEXT", "pid INTEGER"),
    "host_results": ("report TEXT", "report_sha256 TEXT"),
    "assets": ("record_sha256 TEXT",),
    "asset_versions": ("record_sha256 TEXT",),
}


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Stores made by an older ccops gain the newer columns; nothing is dropped."""
    for table, columns in MIGRATIONS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for column in columns:
            if column.split()[0] not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column}")


def needs_schema(db: sqlite3.Connection) -> bool:
    tables = {r[0]: r[1] for r in db.execute("SELECT name, sql FROM sqlite_master WHERE type='table'")}
    if not set(tables) >= TABLES or needs_chain(db):
        return True
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    if not set(INDEXES) <= indexes:
        return True
    return any(
        column.split()[0] not in _columns(db, table) for table, columns in MIGRATIONS.items() for column in columns
    )


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def needs_migration(db: sqlite3.Connection) -> bool:
    """A store with records in the shape before parts: opening it rewrites them (after a backup)."""
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "parts" in tables or "runs" not in tables:
        return False
    return db.execute("SELECT 1 FROM runs LIMIT 1").fetchone() is not None or (
        "assets" in tables and db.execute("SELECT 1 FROM assets LIMIT 1").fetchone() is not None
    )


def create_schema(db: sqlite3.Connection) -> None:
    migrating = needs_migration(db)
    db.execute(PARTS_SCHEMA)
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    _add_missing_columns(db)
    db.execute(WHOLE_INDEX)
    _seed_versions(db)
    create_chain(db)  # after the columns: adopted rows are sealed with all of theirs
    if migrating:
        migrate(db)


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
                "INSERT OR IGNORE INTO asset_versions (host, run_id, collected, summary, record, record_sha256)"
                " VALUES (?,?,?,?,x'',?)",
                (host, run_id, collected, pack_summary(summary(record, collected)), put(db, record)),
            )


def migrate(db: sqlite3.Connection) -> None:
    """Rewrite a store of the older shape in place (inside the caller's transaction): whole reports and
    records become parts, each comply host's latest result is noted, and every host result whose
    stored shape changed is sealed again (an edit made before stays visible: record_chain)."""
    resealed = 0
    sealed = newest_seals(db, "host")
    for rowid, run_id, host, text in db.execute(
        "SELECT rowid, run_id, host, report FROM host_results WHERE report IS NOT NULL"
    ).fetchall():
        value = _parsed(text)
        if value is None:
            continue  # a damaged report stays as it is, read as damaged
        ref = f"{run_id}/{host}"
        intact = matches(db, "host", ref, sealed.get(ref))
        db.execute("UPDATE host_results SET report=NULL, report_sha256=? WHERE rowid=?", (put(db, value), rowid))
        if intact:  # a row edited before the migration keeps its old seal, so verify still names it
            seal(db, "host", ref)
            resealed += 1
    if resealed:
        note_migration(db, "parts", resealed)
    for rowid, blob in db.execute(
        "SELECT rowid, record FROM asset_versions WHERE record_sha256 IS NULL AND length(record) > 0"
    ).fetchall():
        record = unpack(blob)
        if record is not None:
            db.execute("UPDATE asset_versions SET record=x'', record_sha256=? WHERE rowid=?", (put(db, record), rowid))
    for rowid, text in db.execute("SELECT rowid, record FROM assets WHERE record_sha256 IS NULL").fetchall():
        value = _parsed(text)
        if value is not None:
            db.execute("UPDATE assets SET record='', record_sha256=? WHERE rowid=?", (put(db, value), rowid))
    for host, run_id, started, checked, report in db.execute(
        "SELECT h.host, h.run_id, r.started, COALESCE(h.ended, r.started), h.report_sha256 FROM host_results h"
        " JOIN runs r ON r.id = h.run_id WHERE r.verb IN ('comply', 'comply-check') AND h.report_sha256 IS NOT NULL"
        " ORDER BY r.started, r.id"
    ).fetchall():
        note_compliance(db, host, run_id, started, compliance_entry(run_id, checked, get(db, report)))


def _parsed(text: object) -> dict[str, Any] | None:
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


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
    """Each report kept as parts (a damaged one as its text); a comply result also notes the host's compliance."""
    verb, started = db.execute("SELECT verb, started FROM runs WHERE id=?", (op["run_id"],)).fetchone()
    for row in op["rows"]:
        value = _parsed(row["report"])
        sha = _version_of(db, op["run_id"], row["host"], value) if verb in WHOLE_RECORD_VERBS else None
        sha = sha or (put(db, value) if value is not None else None)
        old = db.execute(
            "SELECT report_sha256 FROM host_results WHERE run_id=? AND host=?", (op["run_id"], row["host"])
        ).fetchone()
        if old is not None and str(started) > pruned_until(db, row["host"], verb):
            release(db, old[0])  # written again: the earlier report is no longer this row's
        db.execute(
            "INSERT OR REPLACE INTO host_results (run_id, host, outcome, changed, message, wave, started, ended,"
            " report, report_sha256) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                op["run_id"],
                row["host"],
                row["outcome"],
                row["changed"],
                row["message"],
                row["wave"],
                row["started"],
                row["ended"],
                None if sha else row["report"],
                sha,
            ),
        )
        if (known := recorded_verb(verb)) and known.report == "compliance" and value is not None:
            checked = row["ended"] or started
            note_compliance(db, row["host"], op["run_id"], started, compliance_entry(op["run_id"], checked, value))
    if op["rows"]:
        seal_hosts(db, op["run_id"], [row["host"] for row in op["rows"]])  # the batch as one seal


def _version_of(db: sqlite3.Connection, run_id: str, host: str, report: dict[str, Any] | None) -> str | None:
    """The asset version this inspect result's report became (saved first, as the run loop does), referenced
    rather than kept twice: the same report, collected at the same time, with ccops's enrichment."""
    row = db.execute("SELECT record_sha256 FROM asset_versions WHERE host=? AND run_id=?", (host, run_id)).fetchone()
    if report is None or row is None or not row[0]:
        return None
    inline = manifest_inline(db, row[0])
    if inline is None or any(inline.get(k) != report.get(k) for k in ("outcome", "collected_at")):
        return None
    retain(db, row[0])
    return str(row[0])


def _apply_finish_run(db: sqlite3.Connection, op: dict[str, Any]) -> None:
    db.execute(
        "UPDATE runs SET ended=?, status=?, exit_code=?, message=? WHERE id=?",
        (op["ended"], op["status"], op["exit_code"], op["message"], op["run_id"]),
    )
    seal(db, "run", op["run_id"])
    prune_reports(db, op["ended"])


def _apply_save_assets(db: sqlite3.Connection, op: dict[str, Any]) -> None:
    """Each record becomes a version of its host (history.store_version); the newest is also the latest row.

    Replayed from a spool after newer inspections, an older record joins the history without
    taking the latest row's place.
    """
    keep = op.get("keep", DEFAULT_KEEP_VERSIONS)
    for host, run_id, collected, text in op["rows"]:
        record = text if isinstance(text, dict) else json.loads(text)  # a spooled op holds JSON text
        sha = store_version(db, host, run_id, collected, record, keep)
        latest = db.execute("SELECT collected, record_sha256 FROM assets WHERE host=?", (host,)).fetchone()
        if latest is not None and collected < latest[0]:
            continue  # an older record replayed late: history only
        retain(db, sha)
        release(db, latest[1] if latest is not None else None)
        db.execute(
            "INSERT INTO assets (host, run_id, collected, record, record_sha256) VALUES (?,?,?,'',?)"
            " ON CONFLICT(host) DO UPDATE SET run_id=excluded.run_id, collected=excluded.collected,"
            " record='', record_sha256=excluded.record_sha256",
            (host, run_id, collected, sha),
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
