"""Asset records over time: every inspection kept as a version, enriched and bounded.

Each ``ccops inspect`` stores the host's record as a new version beside a small
compressed summary that trend queries (disk growth, the
risk list, the report) read without opening whole records. When a version is
stored it gains:

- ``patch_level``: pending and security counts, and for each pending security
  update the time it was first seen pending, carried over from the previous
  version while the package stays pending (so "pending since" spans inspections);
- ``compliance``: the host's result in the latest comply run (--check or --fix) that reached it.

Records are kept as content-addressed parts (record_parts): a version references
the package set, services and the like the previous one stored until they change.

Retention, table by table:

- ``asset_versions``, applied to a host whenever one of its versions is stored: the
  whole record of its newest ``CCOPS_ASSET_VERSIONS`` versions (default 14, two weeks
  of daily inspections); the summaries for SUMMARY_DAYS (90) days, for trends;
  anything older is dropped. The ``patch_level`` "since" times survive retention, as
  each version carries them over.
- ``host_results``: the reports of inspect and deploy runs for INSPECT_REPORT_DAYS (14:
  the asset versions keep the same records), of every other verb for REPORT_DAYS (400:
  backups named by patch reports outlive a year); applied when a run finishes. The
  row itself (outcome, times: the audit trail the chain seals) stays.
- ``parts``: a part goes with the last version, result or latest row that named it.
- ``assets`` (one row a host), ``compliance_latest`` (one row a host), ``runs``,
  ``certificates``, ``chain`` (a seal a run's batch of host results, ``chain_batches``
  listing each host's row hash): kept; they grow with hosts and runs, not with reports.
"""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from datetime import datetime, timedelta
from typing import Any

from ccops.errors import CcopsError
from ccops.hostdata import read_asset, read_report
from ccops.hostdata.neighbours import seen as neighbours_seen
from ccops.store.parts import put, release
from ccops.verbs import VERBS

DEFAULT_KEEP_VERSIONS = 14
SUMMARY_DAYS = 90
SUMMARY_NAMES = 10
ZLIB_LEVEL = 6  # security updates named in a summary, the longest pending first
MAX_KEEP_VERSIONS = 10_000
INSPECT_REPORT_DAYS = 14
REPORT_DAYS = 400
# their host reports are the asset records the versions keep (inspect, deploy): the registry says which
WHOLE_RECORD_VERBS = tuple(name for name, verb in VERBS.items() if verb.records_assets)


def keep_versions() -> int:
    """``CCOPS_ASSET_VERSIONS``, else 30; a bad value is an error, not a silent default."""
    raw = os.environ.get("CCOPS_ASSET_VERSIONS", "").strip()
    if not raw:
        return DEFAULT_KEEP_VERSIONS
    if not raw.isdigit() or not 2 <= int(raw) <= MAX_KEEP_VERSIONS:
        raise CcopsError(
            f"CCOPS_ASSET_VERSIONS={raw!r}: give a whole number of versions between 2 and {MAX_KEEP_VERSIONS}"
        )
    return int(raw)


def pack(record: dict[str, Any]) -> bytes:
    return pack_text(json.dumps(record, sort_keys=True, default=str))


def pack_text(text: str) -> bytes:
    return zlib.compress(text.encode(), ZLIB_LEVEL)


# Words a summary is made of, so a summary of a few hundred bytes compresses as if it were one of many.
# Never change it: every summary stored with it needs these exact bytes to be read (a new one: a new name).
SUMMARY_WORDS = (
    b'{"name":"ssh.service","state":"running","status":"enabled"},{"name":"cron.service","state":"running",'
    b'"status":"enabled"},{"name":"systemd-journald.service","state":"running","status":"static"},'
    b'{"name":".service","state":"failed","status":"disabled"},"security_names":[],"security_pending_since":{},'
    b'"security_since":null,"services":[],"uptime_seconds":{"collected":":00:00+00:00","disks":[{"free_mb":,'
    b'"mount":"/","size_mb":,"used_pct":},{"free_mb":,"mount":"/var","size_mb":,"used_pct":}],"packages":,'
    b'"pending":,"security":,'
)


def pack_summary(value: dict[str, Any]) -> bytes:
    """A version's summary as kept: JSON compressed with SUMMARY_WORDS (older stores keep it compressed
    without them, or as JSON text; all read)."""
    packer = zlib.compressobj(ZLIB_LEVEL, zdict=SUMMARY_WORDS)
    text = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    return packer.compress(text) + packer.flush()


def summary_text(value: Any) -> Any:
    """A stored summary as JSON text, whichever way it was kept; anything unreadable is returned as is."""
    if isinstance(value, bytes):
        try:
            reader = zlib.decompressobj(zdict=SUMMARY_WORDS)  # a stream kept without them reads too
            text = reader.decompress(value)
            return text.decode() if reader.eof else None
        except (zlib.error, UnicodeDecodeError):
            return None
    return value


def unpack(blob: Any) -> dict[str, Any] | None:
    """A stored version's record, or None when it cannot be read (the caller marks it damaged)."""
    if not isinstance(blob, bytes):
        return None
    try:
        record = json.loads(zlib.decompress(blob))
    except (zlib.error, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def patch_level(record: dict[str, Any], pending_since: dict[str, str], collected: str) -> dict[str, Any]:
    """Pending updates now, each security one with the time it was first seen pending.

    ``pending_since``: security update name -> first seen, from the host's previous version.
    """
    updates = record.get("updates") or {}
    items = [i for i in updates.get("items") or [] if isinstance(i, dict)]
    security = [
        {"name": str(i.get("name")), "to": i.get("to"), "since": pending_since.get(str(i.get("name")), collected)}
        for i in items
        if i.get("security")
    ]
    security.sort(key=lambda i: (i["since"], i["name"]))
    return {
        "pending": _int(updates.get("pending"), len(items)),
        "security": _int(updates.get("security"), len(security)),
        "security_items": security,
        "security_since": security[0]["since"] if security else None,
    }


def _int(value: Any, fallback: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return fallback


def summary(record: dict[str, Any], collected: str) -> dict[str, Any]:
    """What trends need from a version, small enough to read for the whole fleet at once."""
    level = record.get("patch_level") or {}
    return {
        "collected": collected,
        "uptime_seconds": record.get("uptime_seconds"),
        "packages": (record.get("packages") or {}).get("count"),
        "pending": level.get("pending"),
        "security": level.get("security"),
        "security_since": level.get("security_since"),
        "security_names": [i.get("name") for i in (level.get("security_items") or [])[:SUMMARY_NAMES]],
        # what the next version carries over: since when each security update has been pending
        "security_pending_since": {i.get("name"): i.get("since") for i in level.get("security_items") or []},
        "disks": [
            {k: d.get(k) for k in ("mount", "size_mb", "free_mb", "used_pct")}
            for d in record.get("disks") or []
            if isinstance(d, dict)
        ],
        "services": [
            {k: s.get(k) for k in ("name", "state", "status")}
            for s in record.get("services") or []
            if isinstance(s, dict)
        ],
        "neighbours": neighbours_seen(record),  # addresses only, capped: unknown devices (ccops.report.unknown)
    }


def latest_compliance(db: sqlite3.Connection, host: str) -> dict[str, Any] | None:
    """The host's result in the newest comply run whose report reached it: deviations per policy."""
    row = db.execute("SELECT run_id, checked, deviations FROM compliance_latest WHERE host=?", (host,)).fetchone()
    return None if row is None else compliance_row(row[0], row[1], row[2])


def compliance_row(run_id: Any, checked: Any, text: Any, seen: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """A ``compliance_latest`` row as its entry; ``seen``: deviation lists already read, by their stored text
    (most of a fleet shares a few: none, or the same policy), each read once for a whole fleet."""
    if seen is not None and isinstance(text, str) and text in seen:
        deviations = seen[text]
        return None if deviations is None else {"run_id": str(run_id), "checked": str(checked),
                                                "deviations": [dict(d) for d in deviations]}  # fmt: skip
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        parsed = None
    entry = compliance_entry(run_id, checked, {"deviations": parsed}) if isinstance(parsed, list) else None
    if seen is not None and isinstance(text, str):
        seen[text] = [dict(d) for d in entry["deviations"]] if entry is not None else None
    return entry


def note_compliance(db: sqlite3.Connection, host: str, run_id: str, started: str, entry: dict[str, Any] | None) -> None:
    """Keep ``entry`` as the host's compliance unless a newer comply run's result is kept already.

    Runs' start times have whole seconds and their ids end in random hex: of two runs started in the same
    second the one the store took later (its ``runs`` row, written as it started) is the newer one."""
    if entry is None:
        return
    db.execute(
        "INSERT INTO compliance_latest (host, run_id, started, checked, deviations) VALUES (?,?,?,?,?)"
        " ON CONFLICT(host) DO UPDATE SET run_id=excluded.run_id, started=excluded.started,"
        " checked=excluded.checked, deviations=excluded.deviations"
        " WHERE (excluded.started, COALESCE((SELECT rowid FROM runs WHERE id=excluded.run_id), -1), excluded.run_id)"
        " >= (compliance_latest.started, COALESCE((SELECT rowid FROM runs WHERE id=compliance_latest.run_id), -1),"
        " compliance_latest.run_id)",
        (host, run_id, started, entry["checked"], json.dumps(entry["deviations"], sort_keys=True)),
    )


def pruned_until(db: sqlite3.Connection, host: str, verb: str) -> str:
    """Reports of ``verb``'s runs started at or before this time are released already ('' if none)."""
    del host  # retention of results goes by run, for every host at once
    row = db.execute("SELECT until FROM retention WHERE scope=?", (_scope(verb),)).fetchone()
    return str(row[0]) if row is not None else ""


def _scope(verb: str) -> str:
    return "reports/inspect" if verb in WHOLE_RECORD_VERBS else "reports/other"


def prune_reports(db: sqlite3.Connection, now: str) -> None:
    """Release the host results' reports older than their verb's retention (see the docstring)."""
    for scope, verbs, days in (
        ("reports/inspect", WHOLE_RECORD_VERBS, INSPECT_REPORT_DAYS),
        ("reports/other", None, REPORT_DAYS),
    ):
        until = pruned_until(db, "", WHOLE_RECORD_VERBS[0] if verbs else "")
        cutoff = (datetime.fromisoformat(now) - timedelta(days=days)).isoformat(timespec="seconds")
        runs = [
            (str(run_id), str(started))
            for run_id, started, verb in db.execute(
                "SELECT id, started, verb FROM runs WHERE started > ? AND started < ? ORDER BY started", (until, cutoff)
            )
            if (verb in WHOLE_RECORD_VERBS) == (verbs is not None)
        ]
        for run_id, _ in runs:
            for (sha,) in db.execute(
                "SELECT report_sha256 FROM host_results WHERE run_id=? AND report_sha256 IS NOT NULL", (run_id,)
            ).fetchall():
                release(db, sha)
        if runs:
            db.execute("INSERT OR REPLACE INTO retention (scope, until) VALUES (?, ?)", (scope, runs[-1][1]))


def compliance_entry(run_id: Any, checked: Any, report: Any) -> dict[str, Any] | None:
    """One comply host report as ``{run_id, checked, deviations}``; None when it carries no deviation list."""
    try:
        data = json.loads(report) if isinstance(report, str) else report
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("deviations"), list):
        return None
    deviations = read_report(data, "comply").get("deviations")
    if not isinstance(deviations, list):
        return None
    return {
        "run_id": str(run_id),
        "checked": str(checked),
        "deviations": [
            {"policy": str(d.get("policy")), "detail": str(d.get("detail", ""))}
            for d in deviations
            if isinstance(d, dict) and d.get("policy") is not None
        ],
    }


def pending_since(db: sqlite3.Connection, host: str, run_id: str, collected: str) -> dict[str, str]:
    """Security update name -> first seen pending, from the host's version just before this one."""
    row = db.execute(
        "SELECT summary FROM asset_versions WHERE host=? AND (collected < ? OR (collected = ? AND run_id < ?))"
        " ORDER BY collected DESC, run_id DESC LIMIT 1",
        (host, collected, collected, run_id),
    ).fetchone()
    try:
        since = json.loads(summary_text(row[0])).get("security_pending_since") if row else None
    except (TypeError, ValueError, AttributeError):
        return {}  # a damaged summary: the updates count as first seen now
    if not isinstance(since, dict):
        return {}
    return {str(k): v for k, v in since.items() if isinstance(v, str)}


def store_version(
    db: sqlite3.Connection, host: str, run_id: str, collected: str, record: dict[str, Any], keep: int
) -> str:
    """Enrich, keep as a version, prune to the retention; the sha256 naming the enriched record (record_parts)."""
    if not _shaped(record):  # parsed at the edge already (reads shape it again); a hand-made one is shaped here
        record = read_asset(record)
    record = {
        **record,
        "patch_level": patch_level(record, pending_since(db, host, run_id, collected), collected),
        "compliance": latest_compliance(db, host),
    }
    sha = put(db, record)
    old = db.execute("SELECT record_sha256 FROM asset_versions WHERE host=? AND run_id=?", (host, run_id)).fetchone()
    release(db, old[0] if old is not None else None)
    db.execute(
        "INSERT OR REPLACE INTO asset_versions (host, run_id, collected, summary, record, record_sha256)"
        " VALUES (?,?,?,?,x'',?)",
        (host, run_id, collected, pack_summary(summary(record, collected)), sha),
    )
    prune(db, host, keep)
    return sha


CONTAINERS = {"os": dict, "hardware": dict, "packages": dict, "updates": dict, "disks": list, "services": list}


def _shaped(record: dict[str, Any]) -> bool:
    """What enrichment and summary read has its declared container types (a cheap check, not a parse)."""
    if not all(isinstance(record.get(k, kind()), kind) for k, kind in CONTAINERS.items()):
        return False
    update_items = (record.get("updates") or {}).get("items", [])
    if not isinstance(update_items, list):
        return False  # a count or a text where the list belongs: shaped by the full parse instead
    items = [*(record.get("disks") or []), *(record.get("services") or []), *update_items]
    return all(isinstance(i, dict) for i in items)


def prune(db: sqlite3.Connection, host: str, keep: int) -> None:
    """Whole records for the newest ``keep`` versions, summaries for SUMMARY_DAYS before the newest."""
    newest = db.execute("SELECT MAX(collected) FROM asset_versions WHERE host=?", (host,)).fetchone()[0]
    cutoff = (datetime.fromisoformat(newest) - timedelta(days=SUMMARY_DAYS)).isoformat(timespec="seconds")
    for (sha,) in db.execute(
        "DELETE FROM asset_versions WHERE host=? AND collected < ? RETURNING record_sha256", (host, cutoff)
    ).fetchall():
        release(db, sha)
    beyond = db.execute(
        "SELECT rowid, record_sha256 FROM asset_versions WHERE host=?"
        " AND (record_sha256 IS NOT NULL OR length(record) > 0) ORDER BY collected DESC, run_id DESC LIMIT -1 OFFSET ?",
        (host, keep),
    ).fetchall()
    for rowid, sha in beyond:  # whole records beyond the newest ``keep``: only their summaries stay
        release(db, sha)
        db.execute("UPDATE asset_versions SET record=x'', record_sha256=NULL WHERE rowid=?", (rowid,))
