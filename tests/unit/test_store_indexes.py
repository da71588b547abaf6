"""Retention reads only the versions a host still keeps whole, in stores old and new."""

from __future__ import annotations

import sqlite3
from contextlib import closing

from ccops.store.records import Store

RETENTION = (
    "SELECT rowid, record_sha256 FROM asset_versions WHERE host=? AND (record_sha256 IS NOT NULL OR length(record) > 0)"
    " ORDER BY collected DESC, run_id DESC LIMIT -1 OFFSET ?"
)


def _plan(path) -> str:
    with closing(sqlite3.connect(path)) as db:
        return " ".join(str(r[-1]) for r in db.execute(f"EXPLAIN QUERY PLAN {RETENTION}", ("tst-t01", 14)))


def test_a_store_without_the_retention_index_gains_it_when_opened(tmp_path):
    path = tmp_path / "home" / "ccops.db"
    Store(path)
    assert "asset_versions_whole" in _plan(path) and "TEMP B-TREE" not in _plan(path)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DROP INDEX asset_versions_whole")
    assert "asset_versions_whole" not in _plan(path)
    Store(path)
    assert "asset_versions_whole" in _plan(path)
