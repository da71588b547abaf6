"""Run records and certificates are hash-chained: an edit, a deletion or a forged row shows,
in the store and through `ccops runs verify` (the store edited with sqlite3, as a person would)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ccops.records import Store
from tests.conftest import run_ccops
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
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def test_an_untouched_history_verifies(home):
    code, verdict, _ = _verify(home)
    assert code == 0 and verdict["ok"] and verdict["findings"] == []
    assert verdict["seals"] == 2 * (1 + 2 + 1) + 1  # per run: start, two hosts, finish; then the certificate
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
    _sql(home, "DELETE FROM chain WHERE seq=3")
    _, verdict, _ = _verify(home)
    assert (verdict["findings"][0]["seq"], verdict["findings"][0]["what"]) == (3, "removed from the chain")
    home2 = home  # a seal rewritten to match an edited row, without its hash recomputed
    _sql(home2, "UPDATE chain SET content_sha256='0' WHERE seq=2")
    _, verdict, _ = _verify(home2)
    assert verdict["findings"][0]["seq"] == 2 and "seal was edited" in verdict["findings"][0]["what"]


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
