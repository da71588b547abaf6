"""Run history and asset records in an embedded SQLite store.

Every write is one transaction, so an interrupted run leaves either the old
or the new state, never a torn record. Nothing here stores a secret: callers
pass outcomes and reports, never variables or environments. The store is
private to its user (0600 in a 0700 folder); store_db explains its failures,
store_ops holds its tables and writes, store_spool keeps the writes it refused,
record_rows reads damaged rows.

The store grows with what changes on the hosts: reports and asset records are kept
as content-addressed parts (record_parts), retention covers every table
(asset_history), fleet views read summaries and per-host tables kept as records
arrive (``compliance_latest``), never every report. A store in the older shape is
backed up beside itself and migrated in place when first opened (store_ops.migrate).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from ccops.errors import CcopsError
from ccops.hostdata import read_asset, read_report, read_summary
from ccops.store.asset_history import compliance_row, keep_versions, latest_compliance, summary_text, unpack
from ccops.store.chain import Verdict, canonical, checkpoint, head, keep_checkpoint, seal, verify
from ccops.store.db import Database, StoreBusy, StoreError, create_private, refuse_non_file, store_timeout
from ccops.store.ops import MissingRun, apply_all, create_schema, lost, needs_migration, needs_schema
from ccops.store.parts import get as get_value
from ccops.store.rows import DAMAGED, decode_asset, decode_host, decode_run
from ccops.store.spool import locked, pending, spool_path

__all__ = ["NoSuchRun", "RunIdError", "RunRecord", "Store", "StoreError"]


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
    selectors: dict[str, Any]
    started: str
    ended: str | None
    status: str
    exit_code: int | None
    message: str | None
    request: dict[str, Any]
    plan: dict[str, Any] | list[Any]  # the approved plan document; older records: its waves
    pid: int | None
    hosts: list[dict[str, Any]]
    damaged: list[str] = field(default_factory=list)  # columns that could not be read (status is "damaged")

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class RunIdError(CcopsError):
    """A RUN argument that is not one run: empty, a pattern, too short or ambiguous."""


class NoSuchRun(RunIdError):
    pass


class Store:
    """The public face of the store; every failure is a ``StoreError`` with one line to act on.

    Host results, asset records and a run's end are written durably: when the
    store refuses them (busy past the timeout, full, damaged) they go to the
    run's spool file and reach the store with the next write or open.
    """

    def __init__(self, path: Path, timeout: float | None = None) -> None:
        self.path = path
        self.runs_dir = path.parent / "runs"
        refuse_non_file(path)
        create_private(path)
        self.db = Database(path, store_timeout() if timeout is None else timeout)
        self.keep_versions = keep_versions()
        if self.db.read(needs_schema):
            if self.db.read(needs_migration):
                backup(path)
            self.db.write(create_schema)  # one transaction: an interrupted migration leaves the old store
        self.merge_pending()

    # -- writes ----------------------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        verb: str,
        *,
        operator: str,
        change_id: str | None,
        git_commit: str | None,
        inventory: str,
        inventory_sha256: str,
        selectors: dict[str, Any],
        request: dict[str, Any],
        plan: dict[str, Any] | list[Any],
    ) -> None:
        # not spooled: a run the store cannot record must not start touching hosts
        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO runs (id, verb, operator, change_id, git_commit, inventory, inventory_sha256,"
                " selectors, started, status, request, plan, pid) VALUES (?,?,?,?,?,?,?,?,?, 'running',?,?,?)",
                (
                    run_id,
                    verb,
                    operator,
                    change_id,
                    git_commit,
                    inventory,
                    inventory_sha256,
                    json.dumps(selectors, sort_keys=True),
                    now(),
                    json.dumps(request),
                    json.dumps(plan),
                    os.getpid(),
                ),
            )
            seal(db, "run", run_id)

        self.db.write(insert)

    def reopen_run(self, run_id: str) -> None:
        """A resumed run is running again, under this process."""
        self._durable(run_id, {"op": "reopen_run", "run_id": run_id, "pid": os.getpid()}, spool=False)

    def record_hosts(self, run_id: str, results: list[dict[str, Any]]) -> None:
        rows = [
            {
                "run_id": run_id,
                **{c: r.get(c) for c in HOST_COLUMNS},
                "changed": int(bool(r.get("changed"))),
                "report": r.get("report"),  # kept as given: JSON text only if the op is spooled
            }
            for r in results
        ]
        self._durable(run_id, {"op": "record_hosts", "run_id": run_id, "rows": rows})

    def finish_run(self, run_id: str, status: str, exit_code: int, message: str | None = None) -> None:
        self._durable(
            run_id,
            {
                "op": "finish_run",
                "run_id": run_id,
                "ended": now(),
                "status": status,
                "exit_code": exit_code,
                "message": message,
            },
        )

    def save_assets(self, run_id: str, reports: dict[str, dict[str, Any]]) -> None:
        rows = [[h, run_id, now(), r] for h, r in reports.items()]  # JSON text only if the op is spooled
        self._durable(run_id, {"op": "save_assets", "run_id": run_id, "rows": rows, "keep": self.keep_versions})

    def approve_inventory(self, run_id: str, files: dict[str, str]) -> None:
        """The inventory file digests the run goes on with after editing the inventory itself."""
        self._durable(run_id, {"op": "approve_inventory", "run_id": run_id, "files": files})

    def add_certificate(self, run_id: str, host: str, document: dict[str, Any]) -> str:
        """Keep a host's certificate with its run, sealed in the chain; its sha256 is returned."""
        text = canonical(document)
        digest = hashlib.sha256(text.encode()).hexdigest()
        op = {"op": "certificate", "run_id": run_id, "host": host, "issued": now(), "document": text, "sha256": digest}
        self._durable(run_id, op)
        return digest

    def _durable(self, run_id: str, op: dict[str, Any], spool: bool = True) -> None:
        """Apply ``op`` after whatever the run's spool holds; if the store refuses, spool it."""
        with locked(spool_path(self.runs_dir, run_id)) as pending:
            if pending is None:  # the run folder is not writable: the store is the only place left
                try:
                    self.db.write(lambda db: apply_all(db, [op]))
                except (StoreError, MissingRun) as exc:
                    raise StoreError(f"{exc}; nothing could be kept aside either: {lost(op)}") from exc
                return
            try:
                self.db.write(lambda db: apply_all(db, [*pending.ops, op]))
            except MissingRun:
                if spool:
                    pending.append(op)
                raise StoreError(
                    f"{self.path}: run {run_id} is not in this store (was the store moved aside?); "
                    f"its results are kept in {pending.path}"
                ) from None
            except StoreError as exc:
                if not spool:
                    raise
                try:
                    pending.append(op)
                except OSError as os_exc:
                    raise StoreError(
                        f"{exc}; the results could not be kept aside either "
                        f"({spool_path(self.runs_dir, run_id)}: {os_exc.strerror}): "
                        f"{lost(op)}"
                    ) from exc
                if isinstance(exc, StoreBusy):
                    return  # transient: the next write or open takes it
                raise StoreError(
                    f"{exc}; this run's results are kept in {pending.path} and reach the store once it works again"
                ) from exc
            pending.done()

    def merge_pending(self) -> int:
        """Replay every run's spooled writes; a spool still refused or being flushed is left for later."""
        merged = 0
        for path in pending(self.runs_dir):
            with locked(path, wait=False) as spool:
                if spool is None or spool.fd is None:
                    continue
                try:
                    self.db.write(partial(apply_all, ops=spool.ops))
                except (StoreError, MissingRun, KeyError, TypeError, ValueError):
                    continue  # refused again, or not ours to merge: the file stays for a later open
                spool.done()
                merged += 1
        return merged

    # -- reads -----------------------------------------------------------------------------------

    def runs(self, limit: int = 20, verb: str | None = None) -> list[RunRecord]:
        where = " WHERE verb=?" if verb else ""  # constant text; values are bound parameters
        query = f"SELECT * FROM runs{where} ORDER BY started DESC, rowid DESC LIMIT ?"  # noqa: S608
        args: tuple[str | int, ...] = (verb, limit) if verb else (limit,)
        return self.db.read(lambda db: [_run(db, row, with_hosts=False) for row in db.execute(query, args)])

    def run(self, run_id: str) -> RunRecord | None:
        """The run ``run_id`` names exactly or by a unique prefix; None if none; RunIdError if unclear."""
        try:
            return self.resolve_run(run_id)
        except NoSuchRun:
            return None

    def resolve_run(self, text: str) -> RunRecord:
        """One run from a RUN argument: its full id, or a unique prefix of at least MIN_PREFIX characters.

        Refused with the candidates listed: empty ids, anything but letters, digits and '-' (so no
        wildcard ever widens the match), short prefixes and prefixes several runs share.
        """
        if not text.strip():
            raise RunIdError(f"a run id is needed, got {text!r}; see ccops runs list")
        if not RUN_ID_CHARS.fullmatch(text):
            raise RunIdError(
                f"{text!r} is not a run id: ids are letters, digits and '-', given in full or as a "
                f"unique prefix of at least {MIN_PREFIX} characters (no wildcards); see ccops runs list"
            )

        def find(db: sqlite3.Connection) -> tuple[RunRecord | None, list[str], int]:
            row = db.execute("SELECT * FROM runs WHERE id=?", (text,)).fetchone()
            if row is not None:
                return _run(db, row, with_hosts=True), [], 1
            match = "FROM runs WHERE substr(id, 1, ?) = ?"  # plain comparison: no LIKE, no pattern
            count = db.execute(f"SELECT COUNT(*) {match}", (len(text), text)).fetchone()[0]
            ids = [
                r[0] for r in db.execute(f"SELECT id {match} ORDER BY id DESC LIMIT ?", (len(text), text, CANDIDATES))
            ]
            if count == 1 and len(text) >= MIN_PREFIX:
                row = db.execute("SELECT * FROM runs WHERE id=?", (ids[0],)).fetchone()
                return _run(db, row, with_hosts=True), ids, 1
            return None, ids, count

        record, ids, count = self.db.read(find)
        if record is not None:
            return record
        if count == 0:
            raise NoSuchRun(f"no run {text!r}; see ccops runs list")
        listed = ", ".join(ids) + (f" and {count - len(ids)} more" if count > len(ids) else "")
        if count == 1:
            raise RunIdError(
                f"{text!r} is too short to name a run: give at least {MIN_PREFIX} characters of the id ({listed})"
            )
        raise RunIdError(f"{text!r} matches {count} runs: {listed}; give more of the id")

    def certificate(self, run_id: str, host: str) -> dict[str, Any] | None:
        """A certificate as stored: its document, the sha256 it was issued with, and its seal."""

        def find(db: sqlite3.Connection) -> dict[str, Any] | None:
            row = db.execute("SELECT * FROM certificates WHERE run_id=? AND host=?", (run_id, host)).fetchone()
            if row is None:
                return None
            sealed = db.execute(
                "SELECT seq, sha256 FROM chain WHERE ref=? AND kind='certificate' ORDER BY seq DESC LIMIT 1",
                (f"{run_id}/{host}",),
            ).fetchone()
            return {
                "issued": row["issued"],
                "sha256": row["sha256"],
                "document_sha256": hashlib.sha256(str(row["document"]).encode()).hexdigest(),
                "document": json.loads(row["document"]),
                "seal": {"seq": sealed["seq"], "sha256": sealed["sha256"]} if sealed else None,
            }

        return self.db.read(find)

    def certificates(self, run_id: str) -> list[str]:
        """Hosts of ``run_id`` that have a certificate."""
        rows = self.db.read(
            lambda db: db.execute("SELECT host FROM certificates WHERE run_id=? ORDER BY host", (run_id,)).fetchall()
        )
        return [r[0] for r in rows]

    def verify_chain(self, full: bool = False) -> Verdict:
        """Check the hash chain: from the last verified seal on (see record_chain), or all of it (``full``).

        A check that finds nothing keeps the head it reached as the next checkpoint.
        """

        def check(db: sqlite3.Connection) -> Verdict:
            verdict = verify(db, full=full)
            if verdict.ok and (verdict.head_seq, verdict.head_sha256) == head(db) and checkpoint(db) != head(db):
                keep_checkpoint(db, verdict.head_seq, verdict.head_sha256)
            return verdict

        try:
            return self.db.write(check)
        except StoreError:  # a read-only store is still checked, only its checkpoint stays where it was
            return self.db.read(partial(verify, full=full))

    def asset(self, host: str) -> dict[str, Any] | None:
        return self.assets([host]).get(host)

    def assets(self, hosts: list[str], keys: tuple[str, ...] | None = None) -> dict[str, dict[str, Any]]:
        """Each of ``hosts``' latest asset row (the hosts never inspected are left out), read in one transaction.

        ``keys``: only these fields of each record are read and parsed (a vulnerability check needs the
        packages and the OS, not the services, updates and log lines); the record holds only those.
        """

        def find(db: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = (db.execute("SELECT * FROM assets WHERE host=?", (host,)).fetchone() for host in hosts)
            return [_asset_row(db, dict(row), keys) for row in rows if row is not None]

        out = {}
        for row in self.db.read(find):
            asset = decode_asset(row)
            record = asset["record"] if keys is None else {k: v for k, v in asset["record"].items() if k in keys}
            asset["record"] = read_asset(record)  # any age, any shape: the declared one
            out[asset["host"]] = asset
        return out

    def asset_versions(self, host: str) -> list[dict[str, Any]]:
        """The host's kept inspections, newest first: run_id, collected, summary, and ``whole`` when its
        record is still kept (older ones keep only their summary; see asset_history)."""
        return self.db.read(
            lambda db: [
                {"run_id": str(r[0]), "collected": str(r[1]), "summary": _summary(r[2]), "whole": bool(r[3])}
                for r in db.execute(
                    "SELECT run_id, collected, summary, record_sha256 IS NOT NULL OR length(record) > 0"
                    " FROM asset_versions WHERE host=?"
                    " ORDER BY collected DESC, run_id DESC",
                    (host,),
                )
            ]
        )

    def asset_version(self, host: str, run_id: str) -> dict[str, Any] | None:
        """One kept inspection of the host, whole; ``damaged`` when its record cannot be read."""

        def find(db: sqlite3.Connection) -> tuple[Any, Any, dict[str, Any] | None] | None:
            row = db.execute(
                "SELECT run_id, collected, record, record_sha256 FROM asset_versions WHERE host=? AND run_id=?",
                (host, run_id),
            ).fetchone()
            if row is None:
                return None
            return row[0], row[1], get_value(db, row[3]) if row[3] else unpack(row[2])

        row = self.db.read(find)
        if row is None:
            return None
        record = row[2]
        version = {"host": host, "run_id": str(row[0]), "collected": str(row[1]), "record": read_asset(record or {})}
        if record is None:
            version["damaged"] = ["record"]
        return version

    def latest_summaries(self) -> dict[str, dict[str, Any]]:
        """Every host's newest kept inspection as its summary (with run_id): what fleet views read."""

        def read(db: sqlite3.Connection) -> dict[str, dict[str, Any]]:
            out: dict[str, dict[str, Any]] = {}
            seen: SeenParts = {}
            # the latest row names each host's newest version: one indexed lookup per host
            for host, run_id, text in db.execute(
                "SELECT v.host, v.run_id, v.summary FROM assets a JOIN asset_versions v"
                " ON v.host = a.host AND v.run_id = a.run_id"
            ):
                out[str(host)] = {**_summary(text, seen=seen), "run_id": str(run_id)}
            return out

        return self.db.read(read)

    def summaries_since(self, since: str) -> dict[str, list[dict[str, Any]]]:
        """Per host, the summaries of inspections collected at or after ``since``, oldest first."""

        def read(db: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
            out: dict[str, list[dict[str, Any]]] = {}
            seen: SeenParts = {}
            for host, text in db.execute(
                "SELECT host, summary FROM asset_versions WHERE collected >= ? ORDER BY host, collected", (since,)
            ):
                out.setdefault(str(host), []).append(_summary(text, seen=seen))
            return out

        return self.db.read(read)

    def window_starts(self, since: str) -> dict[str, dict[str, Any]]:
        """Per host, its oldest inspection collected at or after ``since``: where a trend over the window
        starts (its summary's ``collected`` and ``disks`` only, with ``run_id``; the window ends at the latest)."""

        def read(db: sqlite3.Connection) -> dict[str, dict[str, Any]]:
            return {
                str(host): {**_summary(text, TREND_FIELDS), "run_id": str(run_id)}
                # one index seek a host for its row (joined by rowid: a join on host with the time compared
                # ran the subquery once for every version the host ever kept, a second at a year of nights)
                for host, run_id, text in db.execute(
                    "SELECT a.host, v.run_id, v.summary FROM assets a JOIN asset_versions v ON v.rowid = ("
                    "SELECT w.rowid FROM asset_versions w WHERE w.host = a.host AND w.collected >= ?"
                    " ORDER BY w.collected LIMIT 1)",
                    (since,),
                )
            }

        return self.db.read(read)

    def compliance(self, host: str | None = None) -> dict[str, dict[str, Any]]:
        """Per host (or only ``host``), its result in the newest comply run that reached it.

        Read from ``compliance_latest``, written as each comply result is recorded (asset_history).
        """

        def read(db: sqlite3.Connection) -> dict[str, dict[str, Any]]:
            if host is not None:
                entry = latest_compliance(db, host)
                return {host: entry} if entry is not None else {}
            seen: dict[str, Any] = {}
            return {
                str(h): entry
                for h, run_id, checked, text in db.execute(
                    "SELECT host, run_id, checked, deviations FROM compliance_latest"
                )
                if (entry := compliance_row(run_id, checked, text, seen)) is not None
            }

        return self.db.read(read)

    def runs_since(self, since: str, reports: str = "failed", skip_verbs: tuple[str, ...] = ()) -> list[RunRecord]:
        """Runs started at or after ``since``, newest first, each with its hosts' outcomes.

        ``reports``: "failed" reads the hosts a run failed on whole, with their reports, and of the
        others only host and outcome (what fleet views need); "all" every host whole; "none" no report.
        ``skip_verbs``: runs of these verbs are left out (the nightly inspections, for a reader of changes).
        """
        return self.db.read(
            lambda db: [
                _run(db, row, with_hosts=True, reports=reports)
                for row in db.execute(
                    "SELECT * FROM runs WHERE started >= ? ORDER BY started DESC, rowid DESC", (since,)
                )
                if row["verb"] not in skip_verbs
            ]
        )

    def host_history(self, host: str, limit: int = 10) -> list[dict[str, Any]]:
        return self.db.read(
            lambda db: [
                dict(r)
                for r in db.execute(
                    "SELECT h.run_id, r.verb, h.outcome, h.message, h.ended FROM host_results h"
                    " JOIN runs r ON r.id = h.run_id WHERE h.host=? ORDER BY r.started DESC LIMIT ?",
                    (host, limit),
                )
            ]
        )


HOST_COLUMNS = ("host", "outcome", "changed", "message", "wave", "started", "ended")
RUN_ID_CHARS = re.compile(r"[A-Za-z0-9-]+")
MIN_PREFIX = 8
CANDIDATES = 5


TREND_FIELDS = ("collected", "disks")  # what a trend over a window reads of its first inspection


def _summary(text: Any, fields: tuple[str, ...] | None = None, seen: SeenParts | None = None) -> dict[str, Any]:
    """A stored summary in its declared shape; ``fields``: only these are read (the rest is not parsed).

    ``seen``: one fleet read's services lists already parsed, by their JSON; the fleet's hosts mostly run
    the same services, so each distinct list is parsed once (the same result as parsing it in place).
    """
    try:
        data = json.loads(summary_text(text))
    except (TypeError, ValueError, RecursionError):
        return {"damaged": True}
    if not isinstance(data, dict):
        return {"damaged": True}
    if fields:
        return read_summary({k: data[k] for k in fields if k in data})
    services = data.get("services")
    if seen is None or not isinstance(services, list):
        return read_summary(data)
    key = json.dumps(services)
    if key not in seen:
        seen[key] = read_summary({"services": services})
    parsed = seen[key]
    if "damaged" in parsed or "services" not in parsed:
        return read_summary(data)  # its damage notes name where, as a whole parse does
    rest = read_summary({k: v for k, v in data.items() if k != "services"})
    shared = [dict(s) for s in parsed["services"]]
    out = {}
    for k in data:  # the order a whole parse gives: the stored keys', then any damage noted
        if k == "services":
            out[k] = shared
        elif k in rest:
            out[k] = rest[k]
    return {**out, **rest}


SeenParts = dict[str, dict[str, Any]]


FAILED_OUTCOMES = ("failed", "unreachable", DAMAGED)  # the hosts whose reports fleet views read


def _run(db: sqlite3.Connection, row: sqlite3.Row, with_hosts: bool, reports: str = "all") -> RunRecord:
    data = decode_run(dict(row))
    if with_hosts:
        hosts: list[dict[str, Any]] = []
        for r in _host_rows(db, row["id"], whole=reports != "failed"):
            if isinstance(r, tuple):
                hosts.append({"host": r[0], "outcome": r[1]})  # what a fleet view counts
                continue
            wanted = reports == "all" or (reports == "failed" and r["outcome"] in FAILED_OUTCOMES)
            host = decode_host({**dict(r), "report": r["report"] if wanted else None})
            if wanted and r["report"] is None and r["report_sha256"]:
                host["report"] = get_value(db, r["report_sha256"])  # None once retention released it
            hosts.append(_host(host, data["verb"]))
    else:
        counts = db.execute(
            "SELECT outcome, COUNT(*) FROM host_results WHERE run_id=? GROUP BY outcome", (row["id"],)
        ).fetchall()
        hosts = [{"outcome": o if isinstance(o, str) else DAMAGED, "count": n} for o, n in counts]
    return RunRecord(**data, hosts=hosts)


HOST_ROW = "host, outcome, changed, message, wave, started, ended, report, report_sha256"


def _host_rows(db: sqlite3.Connection, run_id: str, whole: bool) -> list[sqlite3.Row | tuple[str, str]]:
    """A run's host results in the order written; not ``whole``: a host that did not fail as (host, outcome)
    only, read without its other columns (a fleet view reads every recent run's hosts)."""
    if whole:
        query = f"SELECT {HOST_ROW} FROM host_results WHERE run_id=? ORDER BY rowid"  # noqa: S608 (constant)
        return list(db.execute(query, (run_id,)))
    brief = db.cursor()
    brief.row_factory = None  # plain tuples: the fast path for thousands of rows
    out: list[sqlite3.Row | tuple[str, str]] = []
    for rowid, host, outcome in brief.execute(
        "SELECT rowid, host, outcome FROM host_results WHERE run_id=? ORDER BY rowid", (run_id,)
    ):
        if isinstance(host, str) and isinstance(outcome, str) and outcome not in FAILED_OUTCOMES:
            out.append((host, outcome))
        else:
            query = f"SELECT {HOST_ROW} FROM host_results WHERE rowid=?"  # noqa: S608 (constant)
            out.append(db.execute(query, (rowid,)).fetchone())
    return out


def _asset_row(db: sqlite3.Connection, row: dict[str, Any], keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The latest asset row with its record, as decode_asset reads it: the value its parts hold (older rows hold
    it inline, as JSON text); ``keys``: only these of the record's parts are read."""
    if row.get("record_sha256"):
        value = get_value(db, row["record_sha256"], keys)
        row["record"] = value if value is not None else "[damaged]"
    return row


def backup(path: Path) -> Path:
    """A copy of the store beside it (SQLite's online backup), named on stderr, before a migration."""
    target = path.with_name(f"{path.name}.{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.before-parts")
    create_private(target)
    try:
        with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise StoreError(f"{path}: cannot back the store up before migrating it ({exc}); nothing was changed") from exc
    print(f"ccops: the record store is migrated to its new shape; a backup is at {target}", file=sys.stderr)
    return target


def _host(host: dict[str, Any], verb: str) -> dict[str, Any]:
    """A stored host result whose report reads in its verb's declared shape (older records too)."""
    if host.get("report") is not None:
        host["report"] = read_report(host["report"], verb)
    return host
