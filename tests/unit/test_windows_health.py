"""The Windows health judging (roles/patch/filter_plugins/windows_health.py), on
win_service_info and win_command results as the real modules return them."""

import importlib.util

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("windows_health", ROOT / "roles/patch/filter_plugins/windows_health.py")
assert _spec and _spec.loader
wh = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wh)


def _svc(name, state, mode="auto"):
    return {"name": name, "display_name": name, "state": state, "start_mode": mode}


def test_a_delayed_start_service_still_stopped_after_boot_is_waited_for():
    assert not wh.win_services_settled([_svc("Softphone", "stopped", "delayed")], ["Softphone"])
    assert not wh.win_services_settled([_svc("softphone", "start_pending")], ["Softphone"])
    assert wh.win_services_settled(
        [_svc("Softphone", "started", "delayed"), _svc("Other", "stopped", "delayed")], ["Softphone"]
    )
    assert wh.win_services_settled(
        [_svc("Softphone", "stopped", "auto")], ["Softphone"]
    )  # a crash is judged, not waited on


def test_services_not_running_are_named_as_declared():
    services = [_svc("winrm", "started"), _svc("Softphone", "stopped")]
    assert wh.win_services_not_running(services, ["WinRM", "Softphone", "Missing"]) == ["Softphone", "Missing"]
    assert wh.win_services_not_running("garbage", ["WinRM"]) == ["WinRM"]


def test_a_check_that_could_not_start_is_told_from_one_that_failed_although_both_have_rc():
    results = [
        {"item": ["C:\\Tools\\ok.exe"], "rc": 0, "start": "t"},
        {"item": ["C:\\Tools\\bad.exe", "-q"], "rc": 1, "start": "t", "failed": True},
        {"item": ["C:\\Tools\\gone.exe"], "rc": 2, "failed": True, "msg": "Failed to run: ..."},
    ]
    assert wh.win_command_problems(results) == [
        "check failed: C:\\Tools\\bad.exe -q",
        "check could not start: C:\\Tools\\gone.exe",
    ]
