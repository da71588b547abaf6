"""A store written before parts is migrated in place: a backup first, every record kept, the chain still verifying."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ccops.hostdata import read_asset
from ccops.store import ops as store_ops
from ccops.store.asset_history import unpack
from ccops.store.records import Store

OLD_STORE = Path(__file__).parent / "data" / "store_before_parts.sql"
INSPECT = "20261123T020000Z-ffffff"


def old_store(tmp_path: Path) -> Path:
    path = tmp_path / "home" / "ccops.db"
    path.parent.mkdir(mode=0o700)
    with sqlite3.connect(path) as db:
        db.executescript(OLD_STORE.read_text())
    path.chmod(0o600)
    return path


def contents(path: Path) -> dict[str, Any]:
    """Every record of an old-shape store, read with plain SQL: what the migration must keep."""
    with sqlite3.connect(path) as db:
        return {
            "runs": db.execute("SELECT * FROM runs ORDER BY id").fetchall(),
            "hosts": {
                (r, h): (o, json.loads(t) if t else None)
                for r, h, o, t in db.execute("SELECT run_id, host, outcome, report FROM host_results")
            },
            "assets": {h: json.loads(t) for h, t in db.execute("SELECT host, record FROM assets")},
            "versions": {
                (h, r): unpack(b) for h, r, b in db.execute("SELECT host, run_id, record FROM asset_versions")
            },
            "certificates": db.execute("SELECT run_id, host, document, sha256 FROM certificates").fetchall(),
        }


def test_an_older_store_is_backed_up_then_migrated_without_losing_a_record(tmp_path, capsys):
    path = old_store(tmp_path)
    before = contents(path)
    assert before["hosts"][(INSPECT, "aaa-t01")][1]["packages"]["count"] == 40  # whole reports, the old way
    store = Store(path)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "backup" in lines[0]
    (backup,) = path.parent.glob("ccops.db.*.before-parts")
    assert str(backup) in lines[0] and backup.stat().st_mode & 0o777 == 0o600
    assert contents(backup) == before  # the backup is the store as it was

    with sqlite3.connect(path) as db:  # the new shape: no report or record is kept whole any more
        assert db.execute("SELECT COUNT(*) FROM host_results WHERE report IS NOT NULL").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM asset_versions WHERE length(record) > 0").fetchone() == (0,)
        runs = db.execute(
            "SELECT id, verb, operator, change_id, git_commit, inventory, inventory_sha256, selectors, started,"
            " ended, status, exit_code, message, request, plan, pid FROM runs ORDER BY id"
        ).fetchall()
    assert runs == before["runs"]
    for (run_id, host), (outcome, report) in before["hosts"].items():
        record = store.run(run_id)
        assert record is not None
        (kept,) = [h for h in record.hosts if h["host"] == host]
        assert kept["outcome"] == outcome
        assert (kept["report"] or None) == (_shaped_report(report, record.verb) if report else None)
    for host, record in before["assets"].items():
        asset = store.asset(host)
        assert asset is not None and asset["record"] == read_asset(record)
    for (host, run_id), record in before["versions"].items():
        version = store.asset_version(host, run_id)
        assert version is not None and "damaged" not in version and version["record"] == read_asset(record)
    for run_id, host, document, sha in before["certificates"]:
        found = store.certificate(run_id, host)
        assert found is not None and found["document"] == json.loads(document) and found["sha256"] == sha
    assert store.compliance()["aaa-t02"]["deviations"] == [{"policy": "usb_storage", "detail": "loadable"}]
    verdict = store.verify_chain(full=True)
    assert verdict.ok, verdict.findings
    assert Store(path).verify_chain(full=True).ok and not capsys.readouterr().err  # migrated once


def _shaped_report(report: dict[str, Any], verb: str) -> dict[str, Any]:
    from ccops.hostdata import read_report

    return read_report(report, verb)


def test_a_record_edited_before_the_migration_is_still_named_after_it(tmp_path):
    path = old_store(tmp_path)
    with sqlite3.connect(path) as db:  # a hand edit nobody sealed, made while the store had the old shape
        (text,) = db.execute("SELECT report FROM host_results WHERE run_id=? AND host='bbb-t01'", (INSPECT,)).fetchone()
        report = json.loads(text)
        report["packages"]["items"]["lib01"] = "6.6-6"
        db.execute("UPDATE host_results SET report=? WHERE run_id=? AND host='bbb-t01'", (json.dumps(report), INSPECT))
    verdict = Store(path).verify_chain(full=True)
    assert [(f.ref, f.what) for f in verdict.findings] == [(f"{INSPECT}/bbb-t01", "edited after it was sealed")]


def test_an_interrupted_migration_leaves_the_old_store_as_it_was(tmp_path, monkeypatch):
    path = old_store(tmp_path)
    before = contents(path)

    def crash(*_: Any) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(store_ops, "note_compliance", crash)  # the migration's last step
    with pytest.raises(RuntimeError, match="power cut"):
        Store(path)
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "parts" not in tables and contents(path) == before
    monkeypatch.undo()
    assert Store(path).verify_chain(full=True).ok  # the next open migrates it whole
