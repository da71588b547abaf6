"""A resumed decommission verifies the final backup the run records name, never the host's mark
(ccops.decommission.recorded): recorded backups read through the store's own API, and the check of
a mark against them, on the mark's real shape (the backup role's backup_result)."""

from __future__ import annotations

import json

import pytest

from ccops.decommission.recorded import mark_check, recorded_final_backups
from ccops.run.ansible_log import reports
from ccops.store.records import Store
from tests.fleet_records import start

BACKUP = {
    "id": "r20261201-0001-seat1-final-101500",
    "sha256": "a" * 64,
    "machine_id": "6f1c2a9e-3b7d-4e15-9a42-0c8d5e7b1f30",
    "paths": ["C:\\Data"],
    "verified": True,
}


RUN_NEW = "r20261202-0001"  # the run asking


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    return Store(tmp_path / "state" / "ccops.db")


def _record(store, run: str, verb: str, results: list[dict]) -> None:
    start(store, run, verb)
    store.record_hosts(run, results)


def _host(name: str, outcome: str, report: dict) -> dict:
    return {"host": name, "outcome": outcome, "changed": 1, "message": None, "report": report}


def test_the_final_backups_a_failed_run_recorded_are_given_to_its_resume(store):
    report = {"outcome": "decommissioning", "final_backup": BACKUP}
    _record(store, "r20261201-0001", "decommission", [_host("seat1", "failed", report), _host("seat2", "ok", {})])
    _record(store, "r20261201-0002", "patch", [_host("seat1", "ok", {"final_backup": {**BACKUP, "id": "patch"}})])
    found = recorded_final_backups(store, [], ["seat1", "seat2"])
    assert found == {"decommission_recorded_backups": {"seat1": {BACKUP["id"]: BACKUP}}}
    assert recorded_final_backups(store, [], ["seat2"]) == {"decommission_recorded_backups": {}}


def test_a_recorded_backup_without_checksum_or_machine_is_not_a_record(store):
    damaged = {"final_backup": {**BACKUP, "sha256": None}}
    _record(store, "r20261201-0001", "decommission", [_host("seat1", "failed", damaged)])
    assert recorded_final_backups(store, [], ["seat1"]) == {"decommission_recorded_backups": {}}


def test_a_mark_agreeing_with_the_record_gives_the_records_backup():
    mark = {"run_id": "r1", "final_backup": {**BACKUP, "paths": ["C:\\Elsewhere"]}}
    assert mark_check(mark, {BACKUP["id"]: BACKUP}) == {"backup": BACKUP, "problem": ""}


def test_no_mark_means_a_new_final_backup():
    assert mark_check({}, {}) == {"backup": None, "problem": ""}


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"sha256": "b" * 64}, "its sha256 for final backup"),
        ({"machine_id": "11111111-2222-3333-4444-555555555555"}, "its machine_id for final backup"),
        ({"sha256": None, "machine_id": 7}, "its sha256 and machine_id"),
    ],
)
def test_a_mark_disagreeing_with_the_record_is_damaged(changes, said):
    check = mark_check({"final_backup": {**BACKUP, **changes}}, {BACKUP["id"]: BACKUP})
    assert check["backup"] is None
    assert check["problem"].startswith("damaged decommission mark: ") and said in check["problem"]


@pytest.mark.parametrize("mark", [{"final_backup": {"id": "other"}}, {"final_backup": BACKUP}])
def test_a_mark_naming_a_backup_no_record_knows_is_damaged(mark):
    check = mark_check(mark, {"other-id": BACKUP} if mark["final_backup"] is BACKUP else {})
    assert check["backup"] is None and "is in no run record" in check["problem"]


@pytest.mark.parametrize("mark", [{"final_backup": "x"}, {"final_backup": {"id": 7}}, {"final_backup": {}}])
def test_a_mark_of_the_wrong_shape_is_damaged(mark):
    assert mark_check(mark, {BACKUP["id"]: BACKUP})["problem"] == (
        "damaged decommission mark: its final backup has no id"
    )


def test_every_decommission_batch_reads_them_from_the_records():
    from ccops.verbs import VERBS, hook

    assert hook(VERBS["decommission"].batch_vars) is recorded_final_backups
    assert all(not v.batch_vars for name, v in VERBS.items() if name != "decommission")


def test_a_batch_killed_before_it_ended_is_read_from_the_run_folders_events(store, tmp_path):
    # the kill came after the host's "decommissioning" report, before the batch was recorded
    events = tmp_path / "home" / "runs" / RUN_NEW / "artifacts" / "w1-b1-a1" / "job_events"
    events.mkdir(parents=True)
    report = {"outcome": "decommissioning", "reason": "", "final_backup": BACKUP}
    event = {
        "event": "runner_on_ok",
        "counter": 40,
        "event_data": {"host": "seat1", "res": {"ansible_facts": {"ccops_report": report}}},
    }
    (events / "40-a.json").write_text(json.dumps(event))
    (events / "41-b.json").write_text("{not json")
    other = {**event, "event_data": {**event["event_data"], "host": "seat9"}}
    (events / "42-c.json").write_text(json.dumps(other))
    earlier = reports(tmp_path / "home" / "runs" / RUN_NEW, "decommission")
    found = recorded_final_backups(store, earlier, ["seat1"])["decommission_recorded_backups"]
    assert list(found) == ["seat1"]
    assert {k: found["seat1"][BACKUP["id"]][k] for k in ("sha256", "machine_id")} == {
        "sha256": BACKUP["sha256"],
        "machine_id": BACKUP["machine_id"],
    }
