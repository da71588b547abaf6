"""Contract tests: ccops patch on modelled Windows seats (see conftest.py). One
ansible-playbook run patches every seat of seats.PATCH_SEATS side by side (the
session fixture patch_runs)."""

from __future__ import annotations

import json

from tests.windows.harness import APP_PATH, BASE_PACKAGE, LCU, OTHER_APP_PATH, SECRET, SSU, TITLE


def test_a_healthy_seat_is_patched_with_verified_backups_around_the_update(patch_runs):
    run = patch_runs["plain"]
    assert run.outcome() == "ok", run.failure()
    assert run.report()["outcome"] == "patched"
    ops = run.ops()
    install = run.index("win_updates.install")
    assert ops.index("backup.archive") < run.index("win_copy") < install  # backup, then the mark, then updates
    assert run.index("backup.archive", install) > run.index("win_service_info", install)  # after-backup after health
    assert run.report()["backup_before"]["paths"] == [APP_PATH]
    assert run.report()["versions_after"] == {TITLE: "5044285"}
    assert run.files() == []  # archives and the patch mark are gone from the host


def test_the_backup_is_a_tar_archive_with_the_package_list_and_manifest_paths(patch_runs):
    run = patch_runs["plain"]
    before = run.report()["backup_before"]
    target = run.root.parent / "backups" / "plain" / before["id"]
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["paths"] == [APP_PATH] and manifest["verified"] is True
    assert (target / "archive.tar.gz").stat().st_size == manifest["size"]


def test_win_updates_reboots_itself_with_a_timeout_above_the_modules_default(patch_runs):
    install = patch_runs["plain"].calls[patch_runs["plain"].index("win_updates.install")]["args"]
    assert install["reboot"] is True and install["reboot_timeout"] >= 1200


def test_reboot_never_is_honoured_on_windows(patch_runs):
    run = patch_runs["never"]
    assert run.outcome() == "ok", run.failure()
    assert run.calls[run.index("win_updates.install")]["args"]["reboot"] is False
    assert "win_reboot" not in run.ops()
    assert run.report()["rebooted"] is False


def test_reboot_never_on_a_uwf_seat_reboots_unprotected_before_the_filter_goes_on(patch_runs):
    # servicing an install-pending update in the protecting boot would land in the overlay
    run = patch_runs["uwfnever"]
    assert run.outcome() == "ok", run.failure()
    install = run.index("win_updates.install")
    protect = next(i for i, c in enumerate(run.calls) if c["op"] == "uwf.set" and c["args"]["parameters"]["Enable"])
    assert install < run.index("win_reboot", install) < protect
    assert run.calls[run.index("win_reboot", install)]["uwf"]["current"] is False
    assert run.report()["rebooted"] is True
    assert run.state["uwf"] == {"current": True, "next": True}


def test_health_waits_for_services_to_settle_after_the_reboot(patch_runs):
    run = patch_runs["plain"]
    assert run.ops().count("win_service_info") >= 3  # two start_pending answers, then started
    assert run.report()["health"]["ok"] is True


def test_ports_are_probed_on_the_hosts_own_address(patch_runs):
    probe = patch_runs["plain"].calls[patch_runs["plain"].index("win_wait_for")]["args"]
    assert probe["host"] == "plain.cc.example" and probe["port"] == 5060


def test_failed_health_rolls_back_with_dism_and_reboots_before_checking(patch_runs):
    run = patch_runs["unhealthy"]
    assert run.outcome() == "failed"
    report = run.report()
    assert report["outcome"] == "rolled_back"
    assert "service not running: ContosoSoftphone" in report["reason"]
    uninstall = run.index("dism.remove")
    reboot = run.index("win_reboot", uninstall)
    assert run.index("packages.read", uninstall) > reboot  # removal checked after the reboot that finishes it
    assert LCU not in run.state["packages"] and SSU in run.state["packages"]
    assert report["rollback"]["packages_removed"] == [LCU]
    assert report["rollback"]["not_removed"] == [
        {"name": SSU, "reason": "servicing stack update: Windows cannot remove it"}
    ]
    # replaced, not merged; two paths with one leaf name each get their own content back
    assert run.state["paths"] == {
        APP_PATH: "softphone settings before the patch",
        OTHER_APP_PATH: "data drive settings before",
    }
    # the softphone runs again; only the health command that cannot start is left
    assert report["health_after_rollback"]["problems"] == [
        "check could not start: C:\\Tools\\softphone-check.exe --quick"
    ]


def test_a_health_command_that_cannot_start_is_a_failed_check_not_a_crash(patch_runs):
    run = patch_runs["unhealthy"]
    assert run.report()["outcome"] == "rolled_back"
    assert "check could not start: C:\\Tools\\softphone-check.exe --quick" in run.report()["reason"]


def test_free_space_precheck_asks_for_room_for_a_cumulative_update(patch_runs):
    run = patch_runs["lowspace"]
    assert "only 5000 MB free on C:" in run.failure()
    assert "win_updates.install" not in run.ops()


def test_a_backup_with_unreadable_files_stops_the_patch(patch_runs):
    run = patch_runs["locked"]
    assert run.outcome() == "failed"
    assert "locked files" in run.failure()
    assert "win_updates.install" not in run.ops()
    assert run.files() == []  # the partial archive tar.exe left is not left on the seat


def test_a_seat_without_a_machine_identity_gets_no_backup_and_no_patch(patch_runs):
    # a backup of no known machine could later be restored onto any machine of that name
    run = patch_runs["noguid"]
    assert run.outcome() == "failed"
    assert "could not be verified: no change is made without one" in run.failure()
    assert "win_updates.install" not in run.ops()
    assert run.files() == []  # the archive is removed from the seat all the same


def test_backups_are_private_at_the_backup_target(patch_runs):
    run = patch_runs["plain"]
    target = run.root.parent / "backups" / "plain" / run.report()["backup_before"]["id"]
    assert target.parent.stat().st_mode & 0o777 == 0o700
    assert target.stat().st_mode & 0o777 == 0o700
    assert (target / "archive.tar.gz").stat().st_mode & 0o777 == 0o600
    assert (target / "manifest.json").stat().st_mode & 0o777 == 0o600


def test_uwf_is_off_before_the_backup_is_written_and_checked_on_after(patch_runs):
    run = patch_runs["uwf"]
    assert run.outcome() == "ok", run.failure()
    archive = run.calls[run.index("backup.archive")]
    assert archive["uwf"]["current"] is False  # written where the next boot keeps it
    off = run.index("uwf.set")
    assert run.calls[off]["args"]["parameters"]["Enable"] is False
    assert off < run.index("win_reboot", off) < run.index("backup.archive")
    on = run.index("uwf.set", off + 1)
    assert run.calls[on]["args"]["parameters"]["Enable"] is True
    mark_gone = run.index("win_file.absent", on)
    assert mark_gone < run.index("win_reboot", on) < run.index("uwf.read", run.index("win_reboot", on))
    assert run.state["uwf"] == {"current": True, "next": True}
    assert LCU in run.state["packages"]  # the patch survived the protecting reboot
    assert run.files() == []


def test_uwf_missing_on_the_edition_is_refused_before_any_change(patch_runs):
    run = patch_runs["uwfmissing"]
    assert "UWF is not installed" in run.failure()
    assert "backup.archive" not in run.ops() and "win_updates.install" not in run.ops()


def _dism_removals(run):
    return [
        a.split(":", 1)[1]
        for c in run.calls
        if c["op"] == "dism.remove"
        for a in c["args"]["argv"]
        if a.startswith("/PackageName:")
    ]


def test_rollback_removes_only_the_packages_the_patch_added(patch_runs):
    # W1: the seat's own packages (language packs, features, older updates) are never sent to DISM
    run = patch_runs["unhealthy"]
    assert BASE_PACKAGE in run.state["packages"]
    assert _dism_removals(run) == [LCU]
    for call in (c for c in run.calls if c["op"] == "dism.remove"):
        assert call["args"]["argv"][0] == "C:\\Windows\\System32\\dism.exe"
        assert call["args"]["argv"][1:3] == ["/Online", "/Remove-Package"]


def test_a_rollback_whose_package_list_is_empty_removes_nothing_and_protects_the_seat(patch_runs):
    # W1: an empty (or unreadable) before-list refuses the restore; the card is protected even so
    run = patch_runs["emptylist"]
    assert run.outcome() == "failed"
    assert "refused: the backup's package list names no package: no package removed" in run.failure()
    assert BASE_PACKAGE in run.state["packages"] and LCU in run.state["packages"]
    assert "dism.remove" not in run.ops()
    assert run.state["uwf"] == {"current": True, "next": True}


def test_uwf_rollback_happens_with_the_filter_off_and_ends_protected(patch_runs):
    run = patch_runs["unhealthy"]
    assert run.report()["outcome"] == "rolled_back"
    assert run.calls[run.index("dism.remove")]["uwf"]["current"] is False
    assert LCU not in run.state["packages"]  # the rollback survived the protecting reboot
    assert run.state["paths"][APP_PATH] == "softphone settings before the patch"
    assert run.state["uwf"] == {"current": True, "next": True}


def _dfc_commands(run):
    return [c["args"]["argv"][1:] for c in run.calls if c["module"] == "win_command"]


def test_deep_freeze_thaws_and_freezes_for_next_boot_with_state_checks(patch_runs):
    run = patch_runs["df"]
    assert run.outcome() == "ok", run.failure()
    assert _dfc_commands(run) == [
        ["get", "/ISFROZEN"],  # precheck: is Deep Freeze there, does it protect the seat
        ["get", "/ISFROZEN"],
        ["<password>", "/THAWNEXTBOOT"],
        ["get", "/ISFROZEN"],
        ["get", "/ISFROZEN"],
        ["<password>", "/FREEZENEXTBOOT"],
        ["get", "/ISFROZEN"],
    ]
    assert run.state["deepfreeze"]["frozen"] is True and LCU in run.state["packages"]
    assert run.calls[run.index("backup.archive")]["deepfreeze"]["frozen"] is False


def test_an_already_thawed_seat_is_not_thawed_again_and_ends_frozen(patch_runs):
    run = patch_runs["dfthawed"]
    assert run.outcome() == "ok", run.failure()
    assert ["<password>", "/THAWNEXTBOOT"] not in _dfc_commands(run)
    assert run.state["deepfreeze"]["frozen"] is True


def test_the_deep_freeze_password_never_reaches_ansibles_output(patch_runs):
    assert SECRET not in patch_runs["df"].stdout


def test_a_failed_prepare_leaves_the_seat_protected_and_unchanged(patch_runs):
    run = patch_runs["dfbadpassword"]
    assert run.outcome() == "failed"
    assert "restore card prepare failed" in run.failure()
    assert "backup.archive" not in run.ops() and "win_updates.install" not in run.ops()
    assert run.state["deepfreeze"]["frozen"] is True
