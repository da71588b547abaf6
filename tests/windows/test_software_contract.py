"""Contract tests: ccops software apply / remove on modelled Windows seats. One
ansible-playbook run (software.yml) brings every seat to its desired applications
side by side; the stand-in win_package answers as the real module does (rc outside
expected_return_code fails, 3010 is success with reboot_required, check mode detects)."""

from __future__ import annotations

import pytest

from tests.windows.harness import run_contract, seat_state

POINT = "http://127.0.0.1:8089"  # never contacted: the stand-in answers
SOFTPHONE_CODE = "{2F6B1C4E-8A3D-4B7F-9E21-5C0D7A9B3E10}"
CRM_CODE = "{7A1E3C5B-2D4F-4E6A-8B9C-0D1E2F3A4B5C}"
RECORDER = "C:\\Program Files\\Contoso\\Recorder\\recorder.exe"
RECORDER_UNINSTALL = "C:\\Program Files\\Contoso\\Recorder\\uninstall.exe"
SHA = "a" * 64


def _msi(app, code, file, service="ContosoSoftphone"):
    return {
        "app": app,
        "state": "present",
        "version": "4.3",
        "service": service,
        "port": 0,
        "config_paths": [],
        "kind": "msi",
        "file": file,
        "sha256": SHA,
        "package": "",
        "package_version": "",
        "product_code": code,
        "arguments": "/qn",
        "detect": {},
        "uninstall": [],
    }


def _recorder(uninstall):
    return {
        "app": "recorder",
        "state": "absent",
        "version": "",
        "service": "",
        "port": 0,
        "config_paths": [],
        "kind": "exe",
        "file": "recorder-setup-2.1.exe",
        "sha256": SHA,
        "package": "",
        "package_version": "",
        "product_code": "",
        "arguments": "/S /INSTALL",
        "detect": {"path": RECORDER},
        "uninstall": uninstall,
    }


DESIRED = {
    "shapd/install": [_msi("softphone", SOFTPHONE_CODE, "softphone-4.3.msi")],
    "shapd/reboot": [_msi("softphone", SOFTPHONE_CODE, "softphone-4.3.msi")],
    "shapd/removeexe": [_recorder([RECORDER_UNINSTALL, "/S"])],
    "shapd/nouninstall": [_recorder([])],
    "shapd/unhealthy": [_msi("crm", CRM_CODE, "crm-4.3.msi", service="ContosoCrm")],
}
INSTALLERS = {
    "softphone-4.3.msi": {"product_id": SOFTPHONE_CODE, "version": "4.3"},
    "crm-4.3.msi": {"product_id": CRM_CODE, "version": "4.3"},
}
SEATS = {
    "install": (seat_state(installers=INSTALLERS), {}),
    "reboot": (seat_state(installers={"softphone-4.3.msi": {**INSTALLERS["softphone-4.3.msi"], "exit": 3010}}), {}),
    "removeexe": (
        seat_state(program_files=[RECORDER], uninstallers={RECORDER_UNINSTALL: {"creates": RECORDER}}),
        {},
    ),
    "nouninstall": (seat_state(program_files=[RECORDER]), {}),
    "unhealthy": (seat_state(installers=INSTALLERS), {}),
}


@pytest.fixture(scope="module")
def software_runs(tmp_path_factory):
    seats = {name: (state, {**hostvars, "ccops_group": name}) for name, (state, hostvars) in SEATS.items()}
    for _, hostvars in seats.values():
        hostvars["ccops_distribution_point"] = {"url": POINT}
    return run_contract(
        tmp_path_factory.mktemp("windows-software"), "software.yml", "apply", seats, {"software_desired": DESIRED}
    )


def _calls(run, op):
    return [c for c in run.calls if c["op"] == op]


def test_an_msi_is_installed_from_the_point_with_its_checksum_and_reported_applied(software_runs):
    run = software_runs["install"]
    assert run.outcome() == "ok", run.failure()
    assert run.report()["outcome"] == "applied"
    (install,) = _calls(run, "win_package.install")
    assert install["args"]["path"] == f"{POINT}/files/softphone-4.3.msi"
    assert install["args"]["checksum"] == SHA and install["args"]["checksum_algorithm"] == "sha256"
    assert run.index("backup.archive") < run.index("win_package.install")
    assert SOFTPHONE_CODE in run.state["programs"]
    assert "win_reboot" not in run.ops()


def test_an_installer_exiting_3010_is_a_success_that_reboots_the_seat(software_runs):
    run = software_runs["reboot"]
    assert run.outcome() == "ok", run.failure()
    assert run.report()["outcome"] == "applied"
    assert run.index("win_reboot") > run.index("win_package.install")
    assert run.state["boot"] == 2


def test_an_exe_is_removed_by_its_declared_uninstall_command_never_its_installer(software_runs):
    # W6: the installer with its install arguments is never downloaded or run to remove it
    run = software_runs["removeexe"]
    assert run.outcome() == "ok", run.failure()
    commands = [c["args"]["argv"] for c in run.calls if c["module"] == "win_command"]
    assert commands == [[RECORDER_UNINSTALL, "/S"]]
    assert not [
        c for c in run.calls if c["module"] == "win_package" and "path" in c["args"] and c["op"] != "win_package.check"
    ]
    assert all("arguments" not in c["args"] for c in run.calls if c["module"] == "win_package")
    assert RECORDER not in run.state["program_files"]
    # checked gone afterwards, by the file its detection rule names
    assert run.index("win_stat", run.index("win_command")) > run.index("win_command")
    assert run.report()["outcome"] == "applied"


def test_an_exe_without_an_uninstall_command_or_key_is_refused_and_left_alone(software_runs):
    run = software_runs["nouninstall"]
    assert run.outcome() == "failed"
    assert "recorder: no uninstall command and no uninstall key in the catalogue" in run.failure()
    assert RECORDER in run.state["program_files"]
    assert "win_command" not in run.ops() and "win_package.install" not in run.ops()


def test_a_rollback_that_leaves_the_new_msi_installed_says_so(software_runs):
    # the backup holds config paths, not installers: the report never says rolled_back then
    run = software_runs["unhealthy"]
    assert run.outcome() == "failed"
    report = run.report()
    assert report["outcome"] == "rollback_incomplete"
    assert report["left_installed"] == ["crm"]
    assert "service not running: ContosoCrm" in report["reason"]
    assert CRM_CODE in run.state["programs"]
