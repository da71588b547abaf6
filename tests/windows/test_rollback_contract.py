"""Contract tests: ccops rollback HOST --to BACKUP on a modelled UWF seat that the
shared patch run patched (its model is kept), and on one whose archive at the
backup target no longer matches the sha256 its run record kept."""

from __future__ import annotations

import pytest

from tests.windows.harness import BASE_PACKAGE, LCU, SSU, run_contract
from tests.windows.seats import PATCH_SEATS


@pytest.fixture(scope="module")
def rollback_runs(patch_runs, patch_work):
    seats = {name: PATCH_SEATS[name] for name in ("uwf", "df")}
    df_backup = patch_runs["df"].report()["backup_before"]
    archive = patch_work / "backups" / "df" / df_backup["id"] / "archive.tar.gz"
    archive.write_bytes(archive.read_bytes() + b"tampered")
    # ccops rollback passes what the run record kept of the backup: its sha256 and machine
    uwf_backup = patch_runs["uwf"].report()["backup_before"]
    uwf_runs = run_contract(
        patch_work, "rollback.yml", "rollback", {"uwf": seats["uwf"]}, fresh=False, extravars=_recorded(uwf_backup)
    )
    df_runs = run_contract(
        patch_work, "rollback.yml", "rollback", {"df": seats["df"]}, fresh=False, extravars=_recorded(df_backup)
    )
    # --reboot never left the update install-pending: ccops rollback takes it back all the same
    never_backup = patch_runs["never"].report()["backup_before"]
    never_runs = run_contract(
        patch_work,
        "rollback.yml",
        "rollback",
        {"never": PATCH_SEATS["never"]},
        fresh=False,
        extravars=_recorded(never_backup),
    )
    return {**uwf_runs, **df_runs, **never_runs}


def _recorded(backup: dict) -> dict:
    return {
        "ccops_confirmed": True,
        "ccops_backup_id": backup["id"],
        "ccops_backup_sha256": backup["sha256"],
        "ccops_backup_machine_id": backup["machine_id"],
    }


def test_rollback_switches_uwf_off_restores_and_protects_the_restored_state(rollback_runs):
    run = rollback_runs["uwf"]
    assert run.outcome() == "ok", run.failure()
    off = run.index("uwf.set")
    assert run.calls[off]["args"]["parameters"]["Enable"] is False
    uninstall = run.index("dism.remove")
    assert off < run.index("win_reboot", off) < uninstall
    assert run.calls[uninstall]["uwf"]["current"] is False
    assert run.index("packages.read", uninstall) > run.index("win_reboot", uninstall)
    on = run.index("uwf.set", uninstall)
    assert run.calls[on]["args"]["parameters"]["Enable"] is True
    assert run.state["uwf"] == {"current": True, "next": True}
    assert LCU not in run.state["packages"]  # kept across the protecting reboot


def test_rollback_record_says_what_windows_could_not_remove(rollback_runs):
    report = rollback_runs["uwf"].report()
    assert report["outcome"] == "rolled_back"
    assert report["rollback"]["packages_removed"] == [LCU]
    assert report["reason"] == f"left installed (Windows cannot remove them): {SSU}"


def test_rollback_refuses_an_archive_that_does_not_match_its_record(rollback_runs):
    run = rollback_runs["df"]
    assert run.outcome() == "failed"
    assert "does not match the sha256 recorded" in run.failure()
    assert "dism.remove" not in run.ops() and "win_copy" not in run.ops()


def test_rollback_removes_an_update_left_install_pending_by_reboot_never(rollback_runs):
    run = rollback_runs["never"]
    assert run.outcome() == "ok", run.failure()
    removed = [
        a for c in run.calls if c["op"] == "dism.remove" for a in c["args"]["argv"] if a.startswith("/PackageName:")
    ]
    assert removed == [f"/PackageName:{LCU}"]
    assert LCU not in run.state["packages"] and BASE_PACKAGE in run.state["packages"]
