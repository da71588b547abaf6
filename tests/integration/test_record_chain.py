"""Run records and certificates are hash-chained: an edit, a deletion or a forged row shows,
in the store and through `ccops runs verify` (the store edited with sqlite3, as a person would)."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

import pytest

from ccops.store.records import Store
from tests.conftest import run_ccops
from tests.json_output import payload
from tests.unit.test_store import result, start

OLD, NEW = "20260301T101500Z-aa11bb", "20260302T101500Z-cc22dd"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    store = Store(home / "ccops.db")
    for run_id in (OLD, NEW):
        start(store, run_id)
        store.record_hosts(run_id, [result("tst-t01"), result("tst-t02")])
        store.finish_run(run_id, "succeeded", 0)
    store.add_certificate(NEW, "tst-t01", {"host": "tst-t01", "sanitised": [{"path": "/srv/data"}]})
    return home


def _sql(home: Path, statement: str, *args: object) -> None:
    with sqlite3.connect(home / "ccops.db") as db:
        db.execute(statement, args)


def _verify(home: Path) -> tuple[int, dict, str]:
    proc = run_ccops(home, "runs", "verify", "--output", "json")
    return proc.returncode, payload(proc.stdout), proc.stderr


def test_an_untouched_history_verifies(home):
    code, verdict, _ = _verify(home)
    assert code == 0 and verdict["ok"] and verdict["findings"] == []
    assert verdict["seals"] == 2 * (1 + 1 + 1) + 1  # per run: start, its batch of hosts, finish; the certificate
    text = run_ccops(home, "runs", "verify")
    assert text.returncode == 0 and f"head #{verdict['head']['seq']} {verdict['head']['sha256']}" in text.stdout


def test_an_edited_old_record_is_named(home):
    _sql(home, "UPDATE runs SET operator='someone-else' WHERE id=?", OLD)
    code, verdict, stderr = _verify(home)
    assert code == 1 and not verdict["ok"]
    assert [(f["kind"], f["ref"], f["what"]) for f in verdict["findings"]] == [
        ("run", OLD, "edited after it was sealed")
    ]
    assert f"first run {OLD}" in stderr and "edited" in stderr
    text = run_ccops(home, "runs", "verify")
    assert text.returncode == 1 and len(text.stderr.strip().splitlines()) == 1 and "Traceback" not in text.stderr


def test_an_edited_host_result_and_certificate_are_named_first_in_chain_order(home):
    _sql(home, "UPDATE certificates SET document=replace(document, '/srv/data', '/srv/other')")
    _sql(home, "UPDATE host_results SET outcome='failed' WHERE run_id=? AND host='tst-t02'", OLD)
    _, verdict, stderr = _verify(home)
    found = [(f["kind"], f["ref"]) for f in verdict["findings"]]
    assert found == [("host", f"{OLD}/tst-t02"), ("certificate", f"{NEW}/tst-t01")]
    assert f"first host {OLD}/tst-t02" in stderr and "(and 1 more)" in stderr


def test_deleted_records_and_forged_rows_show(home):
    _sql(home, "DELETE FROM host_results WHERE run_id=?", OLD)
    _sql(home, "DELETE FROM runs WHERE id=?", OLD)
    _sql(
        home,
        "INSERT INTO runs (id, verb, operator, inventory, inventory_sha256, selectors, started, status)"
        " VALUES ('20260303T000000Z-ffffff', 'patch', 'x', 'i', 's', '{}', '2026-03-03', 'succeeded')",
    )
    _, verdict, _ = _verify(home)
    whats = [(f["kind"], f["ref"], f["what"]) for f in verdict["findings"]]
    assert whats[:3] == [  # in chain order: the run's newest seal is its end, after its hosts
        ("host", f"{OLD}/tst-t01", "deleted"),
        ("host", f"{OLD}/tst-t02", "deleted"),
        ("run", OLD, "deleted"),
    ]
    assert whats[-1] == ("run", "20260303T000000Z-ffffff", "not sealed: written outside ccops")


def test_removing_or_rewriting_a_seal_breaks_the_chain(home):
    _sql(home, "DELETE FROM chain WHERE seq=3")  # the first run's end: its start is now its newest seal
    _, verdict, _ = _verify(home)
    found = [(f["seq"], f["what"]) for f in verdict["findings"]]
    assert (3, "removed from the chain") in found and found[0] == (1, "edited after it was sealed")
    home2 = home  # a seal rewritten to match an edited row, without its hash recomputed
    _sql(home2, "UPDATE chain SET content_sha256='0' WHERE seq=2")
    _, verdict, _ = _verify(home2)
    assert [f["what"] for f in verdict["findings"] if f["seq"] == 2] == ["its seal was edited"]


def test_a_batch_seal_names_each_host_and_its_list_cannot_be_changed(home):
    _sql(home, "DELETE FROM host_results WHERE run_id=? AND host='tst-t02'", NEW)
    _sql(home, "UPDATE host_results SET message='hand edit' WHERE run_id=? AND host='tst-t01'", NEW)
    _, verdict, _ = _verify(home)
    assert [(f["seq"], f["kind"], f["ref"], f["what"]) for f in verdict["findings"]] == [
        (5, "host", f"{NEW}/tst-t01", "edited after it was sealed"),  # the second run's batch, host by host
        (5, "host", f"{NEW}/tst-t02", "deleted"),
    ]
    with sqlite3.connect(home / "ccops.db") as db:  # the batch's list rewritten to leave a host out
        body = json.dumps([["tst-t01", "0" * 64]], separators=(",", ":"))
        db.execute("UPDATE chain_batches SET body=? WHERE seq=2", (zlib.compress(body.encode()),))
        db.execute("DELETE FROM chain_batches WHERE seq=5")
    _, verdict, _ = _verify(home)
    found = [(f["seq"], f["kind"], f["ref"], f["what"]) for f in verdict["findings"]]
    assert found[:2] == [
        (2, "hosts", OLD, "its seal was edited (its list of host results)"),
        (5, "hosts", NEW, "its seal was edited (its list of host results)"),
    ]
    assert (0, "host", f"{OLD}/tst-t02", "not sealed: written outside ccops") in found


def test_a_host_written_again_is_sealed_by_its_newer_batch(home):
    store = Store(home / "ccops.db")
    store.reopen_run(OLD)
    store.record_hosts(OLD, [result("tst-t02", outcome="failed")])  # t01 stays as the first batch sealed it
    store.finish_run(OLD, "failed", 1)
    assert store.verify_chain(full=True).ok
    _sql(home, "UPDATE host_results SET outcome='ok' WHERE run_id=? AND host='tst-t02'", OLD)
    assert [f.ref for f in store.verify_chain(full=True).findings] == [f"{OLD}/tst-t02"]


def test_a_resumed_run_is_sealed_again_and_still_verifies(home):
    store = Store(home / "ccops.db")
    store.reopen_run(OLD)
    store.record_hosts(OLD, [result("tst-t03")])
    store.finish_run(OLD, "succeeded", 0)
    assert store.verify_chain().ok


def test_an_older_store_is_adopted_as_found(tmp_path):
    path = tmp_path / "home" / "ccops.db"
    path.parent.mkdir(mode=0o700)
    with sqlite3.connect(path) as db:  # a store from before the chain
        db.executescript(
            "CREATE TABLE runs (id TEXT PRIMARY KEY, verb TEXT NOT NULL, operator TEXT NOT NULL, change_id TEXT,"
            " git_commit TEXT, inventory TEXT NOT NULL, inventory_sha256 TEXT NOT NULL, selectors TEXT NOT NULL,"
            " started TEXT NOT NULL, ended TEXT, status TEXT NOT NULL, exit_code INTEGER, message TEXT);"
            "CREATE TABLE host_results (run_id TEXT NOT NULL, host TEXT NOT NULL, outcome TEXT NOT NULL,"
            " changed INTEGER NOT NULL DEFAULT 0, message TEXT, wave TEXT, started TEXT, ended TEXT,"
            " PRIMARY KEY (run_id, host));"
            "CREATE TABLE assets (host TEXT PRIMARY KEY, run_id TEXT NOT NULL, collected TEXT NOT NULL,"
            " record TEXT NOT NULL);"
            "INSERT INTO runs VALUES ('20260301T101500Z-aa11bb', 'inspect', 'op', NULL, NULL, 'i', 's', '{}',"
            " '2026-01-01', '2026-01-01', 'succeeded', 0, NULL);"
            "INSERT INTO host_results (run_id, host, outcome) VALUES ('20260301T101500Z-aa11bb', 'tst-t01', 'ok');"
        )
    store = Store(path)
    verdict = store.verify_chain()
    assert verdict.ok and verdict.adopted == 2 and verdict.seals == 2
    _sql(path.parent, "UPDATE host_results SET outcome='failed'")
    assert Store(path).verify_chain().ok  # the default check starts after the checkpoint the first one kept
    assert [f.ref for f in Store(path).verify_chain(full=True).findings] == [f"{OLD}/tst-t01"]


def test_runs_verify_checks_what_is_new_and_full_rereads_everything(home):
    assert run_ccops(home, "runs", "verify").returncode == 0  # keeps the checkpoint
    _sql(home, "UPDATE host_results SET outcome='failed' WHERE run_id=? AND host='tst-t02'", OLD)
    plain = run_ccops(home, "runs", "verify")
    assert plain.returncode == 0 and "0 seal(s) checked after the checkpoint" in plain.stdout
    full = run_ccops(home, "runs", "verify", "--full")
    assert full.returncode == 1 and f"first host {OLD}/tst-t02" in full.stderr
    helptext = run_ccops(home, "runs", "verify", "--help").stdout
    assert "By default from the last verified seal" in helptext and "--full" in helptext


def test_a_store_sealed_host_by_host_still_verifies_and_goes_on_in_batches(tmp_path):
    from ccops.store.chain import seal

    path = tmp_path / "home" / "ccops.db"
    store = Store(path)
    start(store, OLD)
    with sqlite3.connect(path) as db:  # the shape before batches: a seal a host result, no batch table
        db.row_factory = sqlite3.Row
        db.execute("INSERT INTO host_results (run_id, host, outcome) VALUES (?, 'tst-t01', 'ok')", (OLD,))
        seal(db, "host", f"{OLD}/tst-t01")
        db.execute("DROP TABLE chain_batches")
    store = Store(path)
    store.record_hosts(OLD, [result("tst-t02")])
    store.finish_run(OLD, "succeeded", 0)
    assert store.verify_chain(full=True).ok
    _sql(path.parent, "UPDATE host_results SET outcome='failed'")
    assert [f.ref for f in store.verify_chain(full=True).findings] == [f"{OLD}/tst-t01", f"{OLD}/tst-t02"]
