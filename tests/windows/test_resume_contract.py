"""Contract tests: a patch whose controller is killed, then ccops resume. The
stand-in of the named call hangs; the test waits for it, kills ansible-playbook
with its workers, then runs the patch again on the same modelled seats."""

from __future__ import annotations

import pytest

from tests.windows.harness import LCU, run_contract, seat_state

UWF_ON = {"current": True, "next": True}
UWF = {"patch_restore_card": "uwf"}
SEATS = {
    # killed right after the updates were installed: the mark names the before-backup
    "afterinstall": (seat_state(uwf=dict(UWF_ON), hang_at={"op": "win_updates.install"}), UWF),
    # killed just before the protecting reboot: the mark is gone, the filter is still off
    "reprotect": (seat_state(uwf=dict(UWF_ON), hang_at={"op": "win_file.absent", "arg": "patch-in-progress"}), UWF),
}


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    work = tmp_path_factory.mktemp("windows-resume")
    # Ansible moves its hosts task by task together: one run per seat to kill
    first = {
        name: run_contract(work, "patch.yml", "patch", {name: seat}, kill_when_hanging=True)[name]
        for name, seat in SEATS.items()
    }
    second = run_contract(work, "patch.yml", "patch", SEATS, fresh=False, extravars={"ccops_run_id": "r20261123-0001"})
    return first, second


def test_a_seat_killed_after_installing_is_finished_and_protected_on_resume(resumed):
    first, second = resumed
    assert first["afterinstall"].state["uwf"]["current"] is False
    run = second["afterinstall"]
    assert run.outcome() == "ok", run.failure()
    assert run.report()["outcome"] == "patched"
    assert run.report()["backup_before"]["phase"] == "before"  # the interrupted attempt's, from the mark
    assert "win_updates.install" in run.ops() and "backup.archive" in run.ops()
    assert run.state["uwf"] == UWF_ON and LCU in run.state["packages"]
    assert run.files() == []  # the mark is gone, and stays gone once protected


def test_a_seat_left_unprotected_is_not_reported_up_to_date(resumed):
    first, second = resumed
    assert first["reprotect"].state["uwf"] == {"current": False, "next": True}
    run = second["reprotect"]
    assert run.outcome() == "ok", run.failure()
    assert run.report()["outcome"] == "patched"
    assert run.state["uwf"] == UWF_ON
