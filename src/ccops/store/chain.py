"""Hash-chained records: an edit or a deletion in the store's history shows.

Every write of a run record, a host result or a certificate appends a seal to the
``chain`` table, in the same transaction: the sha256 of the row's canonical content
(its columns as sorted, compact JSON, empty columns left out so a column added by a
later ccops does not change old rows) and the hash of the previous seal. A row that
is written again (a run that ends, a resumed run) is sealed again; its newest seal
is what it must match. ``verify`` walks the chain from the first seal: a seal whose
hash or link is wrong, a row that no longer matches its newest seal, a sealed row
that is gone, or a row that was never sealed, each is named; the first one in chain
order is the first record edited or deleted.

A store older than the chain is adopted when a ccops with the chain first opens it:
every row is sealed as found, in the order the runs started (``adopted`` in the
chain's meta). The chain attests those rows from that moment, not from when they
were written. Anyone who can write the store can also rebuild the whole chain:
``ccops runs verify`` prints the head (the newest seal's number and hash); keep it
outside the store (the change ticket, a certificate's text) to anchor what came before.

Checkpoint: a verify that finds nothing keeps the head it reached in ``chain_meta``
(``checkpoint_seq``, ``checkpoint_sha256``). The next plain verify checks that this seal is
unchanged, then only the seals after it and the rows they seal: its cost follows what was
written since, not the whole history. ``verify --full`` walks every seal and every row, and
is what finds an edit to a row sealed before the checkpoint or a row written outside ccops.

Host results name their report by the sha256 of its manifest (record_parts), and that
column is what the seal covers: a report edited in its parts no longer hashes to the name
sealed (verify reads the kept parts of every row it checks). Retention may remove a report's
parts; the row, and its seal of what the report was, stay.

Batches: the host results one write records (a run's batch) are sealed together, by one seal of
kind ``hosts`` (ref: the run) whose body, kept in ``chain_batches``, lists each host with the sha256
of its row; the seal's content hash is the body's. Verify reads a batch as one seal for each of its
hosts, so an edited, deleted or unsealed host result is named as before; the chain grows by a few
seals a run, not one a host (and a row written again is sealed again by its newer batch).

Migration to parts (store_ops.migrate): a host result whose report moves from its own column
into parts is sealed again in its new shape, but only if the row as found still matched its
newest seal; a row edited before the migration keeps its old seal and stays "edited". The
migration itself is a sealed row of ``chain_meta`` (kind ``meta``, ``migrated-parts``: when and
how many rows were sealed again), so removing or altering that record shows too.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ccops.store.parts import damaged_parts

GENESIS = "0" * 64
CHAIN_SCHEMA = """
CREATE TABLE IF NOT EXISTS chain (
  seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, ref TEXT NOT NULL, sealed TEXT NOT NULL,
  content_sha256 TEXT NOT NULL, prev_sha256 TEXT NOT NULL, sha256 TEXT NOT NULL
);
DROP INDEX IF EXISTS chain_ref;
CREATE INDEX IF NOT EXISTS chain_certificates ON chain (ref) WHERE kind = 'certificate';
CREATE TABLE IF NOT EXISTS chain_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chain_batches (seq INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
  run_id TEXT NOT NULL REFERENCES runs(id), host TEXT NOT NULL, issued TEXT NOT NULL,
  document TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (run_id, host)
);
"""
# kind: (table, the columns that name one row; the ref joins their values with "/")
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "run": ("runs", ("id",)),
    "host": ("host_results", ("run_id", "host")),
    "certificate": ("certificates", ("run_id", "host")),
    "meta": ("chain_meta", ("key",)),  # a sealed fact about the store itself (a migration)
}
BATCH = "hosts"  # one seal for the host results of one write (see the module's docstring)
UNSEALED_META = ("started", "adopted", "checkpoint_seq", "checkpoint_sha256")


def canonical(row: dict[str, Any]) -> str:
    """A row as one exact text: sorted keys, compact, empty columns left out."""
    return json.dumps(
        {k: v for k, v in row.items() if v is not None}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _link(seq: int, kind: str, ref: str, sealed: str, content: str, prev: str) -> str:
    return _digest("\n".join((str(seq), kind, ref, sealed, content, prev)))


def _row(db: sqlite3.Connection, kind: str, ref: str) -> dict[str, Any] | None:
    table, keys = KINDS[kind]
    values = ref.split("/", len(keys) - 1)
    if len(values) != len(keys):
        return None
    where = " AND ".join(f"{k}=?" for k in keys)
    row = db.execute(f"SELECT * FROM {table} WHERE {where}", values).fetchone()  # noqa: S608 (constant names)
    return dict(zip(row.keys(), tuple(row), strict=True)) if row is not None else None


def head(db: sqlite3.Connection) -> tuple[int, str]:
    row = db.execute("SELECT seq, sha256 FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row is not None else (0, GENESIS)


def _append(db: sqlite3.Connection, kind: str, ref: str, content: str) -> tuple[int, str]:
    seq, prev = head(db)
    sealed = datetime.now(UTC).isoformat(timespec="seconds")
    link = _link(seq + 1, kind, ref, sealed, content, prev)
    db.execute(
        "INSERT INTO chain (seq, kind, ref, sealed, content_sha256, prev_sha256, sha256) VALUES (?,?,?,?,?,?,?)",
        (seq + 1, kind, ref, sealed, content, prev, link),
    )
    return seq + 1, link


def seal(db: sqlite3.Connection, kind: str, ref: str) -> str:
    """Append a seal of the row ``kind``/``ref`` as it is now (inside the caller's transaction)."""
    row = _row(db, kind, ref)
    if row is None:
        raise KeyError(f"no {kind} {ref} to seal")
    return _append(db, kind, ref, _digest(canonical(row)))[1]


def seal_hosts(db: sqlite3.Connection, run_id: str, hosts: Iterable[str]) -> str:
    """One seal of these host results of ``run_id`` as they are now: a batch (see the module's docstring)."""
    entries = []
    for host in dict.fromkeys(hosts):  # a host written twice in one batch is listed once, as it is now
        row = _row(db, "host", f"{run_id}/{host}")
        if row is None:
            raise KeyError(f"no host {run_id}/{host} to seal")
        entries.append([host, _digest(canonical(row))])
    body = json.dumps(entries, separators=(",", ":"))  # ASCII: any host name hashes and stores as it is
    seq, link = _append(db, BATCH, run_id, _digest(body))
    db.execute("INSERT INTO chain_batches (seq, body) VALUES (?, ?)", (seq, zlib.compress(body.encode(), 6)))
    return link


def batch_entries(body: object, content_sha256: str) -> list[tuple[str, str]] | None:
    """A batch seal's hosts with their rows' sha256; None when its body is gone, unreadable or not the one sealed."""
    try:
        text = zlib.decompress(body) if isinstance(body, bytes) else None
        entries = json.loads(text) if text is not None and _digest(text.decode()) == content_sha256 else None
    except (zlib.error, ValueError, RecursionError):
        return None
    if not isinstance(entries, list) or not all(
        isinstance(e, list) and len(e) == 2 and all(isinstance(v, str) for v in e) for e in entries
    ):
        return None
    return [(e[0], e[1]) for e in entries]


def create_chain(db: sqlite3.Connection) -> None:
    """The chain's tables; a store that had records but no chain has them adopted, sealed as found."""
    existed = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='chain'").fetchone() is not None
    for statement in CHAIN_SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    if existed:
        return
    adopted = 0
    for (run_id,) in db.execute("SELECT id FROM runs ORDER BY started, id").fetchall():
        seal(db, "run", run_id)
        hosts = db.execute("SELECT host FROM host_results WHERE run_id=? ORDER BY rowid", (run_id,)).fetchall()
        if hosts:
            seal_hosts(db, run_id, [str(host) for (host,) in hosts])
        adopted += 1 + len(hosts)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    db.executemany(
        "INSERT OR REPLACE INTO chain_meta (key, value) VALUES (?, ?)", [("started", now), ("adopted", str(adopted))]
    )


def _seals(rows: Iterable[sqlite3.Row]) -> Iterator[tuple[int, str, str, str | None]]:
    """Chain rows (with their batch's ``body``) as (seq, kind, ref, content sha256), a batch as one per host;
    a batch whose body cannot be read yields itself with no content."""
    for s in rows:
        if s["kind"] != BATCH:
            yield s["seq"], s["kind"], s["ref"], s["content_sha256"]
            continue
        entries = batch_entries(s["body"], s["content_sha256"])
        if entries is None:
            yield s["seq"], BATCH, s["ref"], None
        for host, content in entries or ():
            yield s["seq"], "host", f"{s['ref']}/{host}", content


SEALS_FROM = "SELECT c.*, b.body FROM chain c LEFT JOIN chain_batches b ON b.seq = c.seq"


def newest_seals(db: sqlite3.Connection, kind: str) -> dict[str, str]:
    """Each row of ``kind`` sealed: its newest seal's content hash (one pass over the chain)."""
    return {
        ref: content
        for _, k, ref, content in _seals(db.execute(f"{SEALS_FROM} ORDER BY c.seq"))
        if k == kind and content is not None
    }


def matches(db: sqlite3.Connection, kind: str, ref: str, content_sha256: str | None) -> bool:
    """The row ``kind``/``ref`` as it is now hashes to ``content_sha256`` (its newest seal's)."""
    row = _row(db, kind, ref)
    return row is not None and content_sha256 is not None and _digest(canonical(row)) == content_sha256


def note_migration(db: sqlite3.Connection, name: str, resealed: int) -> None:
    """A migration of the store's shape, kept as a sealed row of the chain's meta table."""
    at = datetime.now(UTC).isoformat(timespec="seconds")
    key = f"migrated-{name}"
    db.execute(
        "INSERT OR REPLACE INTO chain_meta (key, value) VALUES (?, ?)",
        (key, json.dumps({"at": at, "resealed": resealed}, sort_keys=True)),
    )
    seal(db, "meta", key)


def needs_chain(db: sqlite3.Connection) -> bool:
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return not {"chain", "chain_meta", "chain_batches", "certificates"} <= tables


@dataclass
class Finding:
    seq: int  # the seal it concerns (0: a row never sealed)
    kind: str
    ref: str
    what: str  # edited, deleted, not sealed, seal edited, seal removed

    def __str__(self) -> str:
        where = f"seal #{self.seq}" if self.seq else "no seal"
        return f"{self.kind} {self.ref} ({where}): {self.what}"


@dataclass
class Verdict:
    seals: int
    head_seq: int
    head_sha256: str
    started: str | None
    adopted: int
    findings: list[Finding] = field(default_factory=list)
    since_seq: int = 0  # 0: every seal was checked; else the checkpoint the check started after

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "seals": self.seals,
            "head": {"seq": self.head_seq, "sha256": self.head_sha256},
            "chain_started": self.started,
            "adopted": self.adopted,
            "checked": "full" if not self.since_seq else f"seals after #{self.since_seq} (checkpoint)",
            "findings": [{"seq": f.seq, "kind": f.kind, "ref": f.ref, "what": f.what} for f in self.findings],
        }


def checkpoint(db: sqlite3.Connection) -> tuple[int, str] | None:
    meta = dict(db.execute("SELECT key, value FROM chain_meta WHERE key LIKE 'checkpoint_%'").fetchall())
    try:
        return int(meta["checkpoint_seq"]), str(meta["checkpoint_sha256"])
    except (KeyError, ValueError):
        return None


def keep_checkpoint(db: sqlite3.Connection, seq: int, sha: str) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO chain_meta (key, value) VALUES (?, ?)",
        [("checkpoint_seq", str(seq)), ("checkpoint_sha256", sha)],
    )


def _link_ok(s: sqlite3.Row) -> bool:
    return bool(s["sha256"] == _link(s["seq"], s["kind"], s["ref"], s["sealed"], s["content_sha256"], s["prev_sha256"]))


def _unsealed(db: sqlite3.Connection, sealed: dict[tuple[str, str], Any]) -> list[Finding]:
    out = []
    for kind, (table, keys) in KINDS.items():
        for row in db.execute(f"SELECT {', '.join(keys)} FROM {table}"):  # noqa: S608 (constant names)
            ref = "/".join(str(v) for v in row)
            if (kind, ref) not in sealed and not (kind == "meta" and ref in UNSEALED_META):
                out.append(Finding(0, kind, ref, "not sealed: written outside ccops"))
    return out


class _Walk:
    """The chain's links checked as its rows stream past (a year of seals is never held at once)."""

    def __init__(self, prev: str, expected_seq: int) -> None:
        self.prev, self.expected_seq, self.checked = prev, expected_seq, 0

    def links(self, rows: Iterable[sqlite3.Row], findings: list[Finding]) -> Iterator[sqlite3.Row]:
        before = ("seal", f"#{self.expected_seq - 1}")
        for s in rows:
            self.checked += 1
            if s["seq"] != self.expected_seq:
                gap = f"#{self.expected_seq}" + (f"-#{s['seq'] - 1}" if s["seq"] - 1 > self.expected_seq else "")
                findings.append(Finding(self.expected_seq, "seal", gap, "removed from the chain"))
            elif s["prev_sha256"] != self.prev:
                findings.append(Finding(s["seq"] - 1, *before, "its seal was edited"))
            elif not _link_ok(s):
                findings.append(Finding(s["seq"], s["kind"], s["ref"], "its seal was edited"))
            self.prev, self.expected_seq, before = s["sha256"], s["seq"] + 1, (s["kind"], s["ref"])
            yield s


def verify(db: sqlite3.Connection, full: bool = True) -> Verdict:
    """Walk the chain: links, then every row against its newest seal, then rows never sealed.

    Not ``full`` and a checkpoint kept: the checkpoint's seal must be unchanged, then only the seals
    after it and the rows they seal are checked (see the module's docstring).
    """
    meta = dict(db.execute("SELECT key, value FROM chain_meta").fetchall())
    findings: list[Finding] = []
    prev, expected_seq = GENESIS, 1
    mark = None if full else checkpoint(db)
    if mark is not None:
        anchor = db.execute("SELECT * FROM chain WHERE seq=?", (mark[0],)).fetchone()
        if anchor is None or anchor["sha256"] != mark[1] or not _link_ok(anchor):
            findings.append(Finding(mark[0], "seal", f"#{mark[0]}", "the last verified seal was changed or removed"))
        prev, expected_seq = mark[1], mark[0] + 1
    newest: dict[tuple[str, str], tuple[int, str]] = {}  # (kind, ref): (seq, content sha256) of its newest seal
    walk = _Walk(prev, expected_seq)
    rows = db.execute(f"{SEALS_FROM} WHERE c.seq >= ? ORDER BY c.seq", (expected_seq,))
    for seq, kind, ref, content in _seals(walk.links(rows, findings)):
        if content is None:  # a batch's list of hosts removed or rewritten: the seal no longer holds
            if not any(f.seq == seq for f in findings[-1:]):  # unless its seal itself is named already
                findings.append(Finding(seq, kind, ref, "its seal was edited (its list of host results)"))
        else:
            newest[(kind, ref)] = (seq, content)
    checked = walk.checked
    reports: dict[str, tuple[int, str]] = {}
    for (kind, ref), (seq, content) in newest.items():
        row = _row(db, kind, ref) if kind in KINDS else None
        if row is None:
            findings.append(Finding(seq, kind, ref, "deleted"))
        elif _digest(canonical(row)) != content:
            findings.append(Finding(seq, kind, ref, "edited after it was sealed"))
        elif row.get("report_sha256"):
            reports[str(row["report_sha256"])] = (seq, ref)
    for sha in damaged_parts(db, reports):
        seq, ref = reports[sha]
        findings.append(Finding(seq, "host", ref, "its report was edited after it was sealed"))
    if mark is None:
        findings += _unsealed(db, newest)
    findings.sort(key=lambda f: (f.seq == 0, f.seq))
    seq, sha = head(db)
    verdict = Verdict(checked, seq, sha, meta.get("started"), int(meta.get("adopted", 0)), findings)
    verdict.since_seq = mark[0] if mark is not None else 0
    return verdict
