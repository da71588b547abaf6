"""The store grows with what changed: values stored once, retention over every table, verify from a checkpoint."""

from __future__ import annotations

import json
import sqlite3
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ccops.report.morning import build_report
from ccops.report.risks import load_state, risk_list
from ccops.store import records
from ccops.store.records import Store
from tests.fleet_records import record, seed_fleet, start

PACKAGES = {"count": 60, "items": {f"lib{i:02d}": f"1.{i}-1" for i in range(60)}}


def night(store: Store, day: int, hosts: list[str], packages: dict[str, Any] = PACKAGES, first: datetime | None = None):
    """One nightly inspect as ccops records it: the asset report is each host's result and its record."""
    at = (first or datetime(2026, 1, 1, 2, tzinfo=UTC)) + timedelta(days=day)
    run_id = f"{at:%Y%m%dT%H%M%SZ}-{day:06x}"
    reports = {
        h: {
            "outcome": "inspected",
            "reason": "",
            **record(packages=packages, logs=[f"{at} {h} night {day} line {n}" for n in range(20)]),
        }
        for h in hosts
    }
    saved = records.now
    records.now = lambda: at.isoformat(timespec="seconds")
    try:
        start(store, run_id, "inspect")
        store.save_assets(run_id, reports)  # the run loop's order: a batch's records, then its results
        store.record_hosts(run_id, [{"host": h, "outcome": "ok", "report": r} for h, r in reports.items()])
        store.finish_run(run_id, "succeeded", 0)
    finally:
        records.now = saved
    return run_id


def parts(path: Path) -> list[Any]:
    with sqlite3.connect(path) as db:
        return [json.loads(zlib.decompress(d)) for (d,) in db.execute("SELECT data FROM parts")]


def test_a_package_set_that_did_not_change_is_stored_once(tmp_path):
    path = tmp_path / "ccops.db"
    store = Store(path)
    for day in range(5):
        night(store, day, ["tst-t01", "tst-t02"])
    kept = parts(path)
    assert sum(1 for p in kept if p == PACKAGES) == 1  # five nights, two hosts, results and versions: one copy
    logs = [p for p in kept if isinstance(p, list) and p and "line 0" in str(p[0])]
    assert len(logs) == 10  # what changed each night is stored each night
    manifests = [p for p in kept if isinstance(p, dict) and "keys" in p]
    assert len(manifests) == 10  # an inspect result names the asset version its report became
    run = store.run(store.runs(1)[0].id)
    assert run is not None and run.hosts[0]["report"]["logs"][0].endswith("night 4 line 0")
    changed = {**PACKAGES, "items": {**PACKAGES["items"], "lib01": "1.1-2"}}
    night(store, 5, ["tst-t01"], changed)
    assert sum(1 for p in parts(path) if p in (PACKAGES, changed)) == 2
    assert store.asset("tst-t01")["record"]["packages"] == changed
    assert store.asset("tst-t02")["record"]["packages"] == PACKAGES


def test_retention_releases_old_reports_of_every_table(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_ASSET_VERSIONS", "3")
    path = tmp_path / "ccops.db"
    store = Store(path)
    first = datetime.now(UTC).replace(microsecond=0) - timedelta(days=40)
    runs = [night(store, day, ["tst-t01"], first=first) for day in range(40)]
    versions = store.asset_versions("tst-t01")
    assert sum(v["whole"] for v in versions) == 3  # whole records: the newest three
    assert len(versions) == 40  # summaries: 90 days, all of them here
    newest = store.run(runs[-1])
    assert newest is not None and newest.hosts[0]["report"]["packages"] == PACKAGES
    for run_id in runs[:20]:  # inspect reports older than 14 days went; the row and its outcome stay
        old = store.run(run_id)
        assert old is not None and old.hosts[0]["outcome"] == "ok" and not old.hosts[0]["report"]
    logs = [p for p in parts(path) if isinstance(p, list) and p and "line 0" in str(p[0])]
    assert 3 <= len(logs) <= 16  # the nights whose report or whole record is still kept, nothing older
    assert store.verify_chain(full=True).ok  # releasing a report changes no sealed row


def _sql(path: Path, statement: str, *args: object) -> None:
    with sqlite3.connect(path) as db:
        db.execute(statement, args)


def test_verify_starts_from_its_checkpoint_and_full_walks_everything(tmp_path):
    path = tmp_path / "ccops.db"
    store = Store(path)
    old = night(store, 0, ["tst-t01", "tst-t02"])
    assert store.verify_chain().ok  # no checkpoint yet: everything, then the head is kept
    with sqlite3.connect(path) as db:
        kept = dict(db.execute("SELECT key, value FROM chain_meta WHERE key LIKE 'checkpoint%'").fetchall())
    assert kept["checkpoint_seq"] == str(store.verify_chain(full=True).head_seq)

    _sql(path, "UPDATE host_results SET outcome='failed' WHERE run_id=? AND host='tst-t01'", old)
    assert store.verify_chain().ok  # an old row is not read again by the default check...
    found = store.verify_chain(full=True).findings  # ...--full finds it
    assert [(f.ref, f.what) for f in found] == [(f"{old}/tst-t01", "edited after it was sealed")]
    _sql(path, "UPDATE host_results SET outcome='ok' WHERE run_id=? AND host='tst-t01'", old)

    new = night(store, 1, ["tst-t01", "tst-t02"])
    _sql(path, "UPDATE host_results SET message='all fine' WHERE run_id=? AND host='tst-t02'", new)
    found = store.verify_chain().findings  # a row sealed since the checkpoint is checked by default
    assert [(f.ref, f.what) for f in found] == [(f"{new}/tst-t02", "edited after it was sealed")]
    _sql(path, "UPDATE host_results SET message=NULL WHERE run_id=? AND host='tst-t02'", new)
    assert store.verify_chain().ok

    newer = night(store, 2, ["tst-t01"], {**PACKAGES, "count": 61})
    with sqlite3.connect(path) as db:  # a report edited in its parts: the sealed name no longer fits
        (rowid,) = db.execute("SELECT rowid FROM parts WHERE data = ?", (_packed(61),)).fetchone()
        db.execute("UPDATE parts SET data=? WHERE rowid=?", (_packed(62), rowid))
    found = store.verify_chain().findings
    assert [(f.ref, f.what) for f in found] == [(f"{newer}/tst-t01", "its report was edited after it was sealed")]


def _packed(count: int) -> bytes:
    from ccops.store.parts import ZLIB_LEVEL, canonical_json

    return zlib.compress(canonical_json({**PACKAGES, "count": count}).encode(), ZLIB_LEVEL)


def test_a_changed_checkpoint_seal_is_found(tmp_path):
    path = tmp_path / "ccops.db"
    store = Store(path)
    night(store, 0, ["tst-t01"])
    verdict = store.verify_chain()
    _sql(path, "UPDATE chain SET sealed='2020-01-01T00:00:00+00:00' WHERE seq=?", verdict.head_seq)
    assert [f.what for f in store.verify_chain().findings] == ["the last verified seal was changed or removed"]


@pytest.fixture
def seeded(tmp_path: Path) -> Store:
    store = Store(tmp_path / "ccops.db")
    seed_fleet(store)
    return store


def test_fleet_views_read_only_the_reports_of_failed_hosts_and_give_the_same_answers(seeded, tmp_path):
    from ccops.inventory.load import check_inventory
    from tests.conftest import write_inventory
    from tests.fleet_records import site_file

    inv = write_inventory(
        tmp_path / "inv", {"aaa.yml": site_file("aaa", 4, "10.0.0.1"), "bbb.yml": site_file("bbb", 3, "10.0.1.1")}
    )
    model, _ = check_inventory(inv)
    assert model is not None
    state = load_state(seeded)
    everything = load_state(seeded)
    everything.runs = seeded.runs_since((state.now - timedelta(days=30)).isoformat(timespec="seconds"), reports="all")
    assert risk_list(model, state) == risk_list(model, everything)
    assert build_report(model, state) == build_report(model, everything)
    assert any(h.get("report") for r in everything.runs for h in r.hosts if h["outcome"] == "ok")
    assert not any(h.get("report") for r in state.runs for h in r.hosts if h["outcome"] == "ok")
