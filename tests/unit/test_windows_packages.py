"""The Windows restore's controller-side decisions (roles/backup/filter_plugins/windows_packages.py),
on package lists as backup_windows.yml and restore_windows.yml gather them (ConvertTo-Json of
Get-WindowsPackage records) and on win_command results as the real module returns them."""

import importlib.util
import json

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location(
    "windows_packages", ROOT / "roles/backup/filter_plugins/windows_packages.py"
)
assert _spec and _spec.loader
wp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wp)

BASE = "Package_for_KB5027397~31bf3856ad364e35~amd64~~22621.1.1.0"
LANG = "Microsoft-Windows-LanguageFeatures-Basic-en-us-Package~31bf3856ad364e35~amd64~~10.0.22621.1"
LCU = "Package_for_RollupFix~31bf3856ad364e35~amd64~~22621.4317.1.9"
OLD_LCU = "Package_for_RollupFix~31bf3856ad364e35~amd64~~22621.4169.1.5"
SSU = "Package_for_ServicingStack_4310~31bf3856ad364e35~amd64~~22621.4310.1.0"


def _list(*entries):
    return json.dumps([{"PackageName": n, "PackageState": s} for n, s in entries])


BEFORE = _list((BASE, "Installed"), (LANG, "Installed"), (OLD_LCU, "Installed"))


def test_only_packages_present_now_and_absent_before_are_removed():
    now = _list(
        (BASE, "Installed"), (LANG, "Installed"), (OLD_LCU, "Superseded"), (LCU, "Installed"), (SSU, "Installed")
    )
    plan = wp.win_restore_plan(BEFORE, now)
    assert plan == {
        "refused": "",
        "remove": [LCU],
        "keep": [{"name": SSU, "reason": "servicing stack update: Windows cannot remove it"}],
    }


def test_an_install_pending_update_after_reboot_never_is_removed_too():
    now = _list((BASE, "Installed"), (LANG, "Installed"), (OLD_LCU, "Installed"), (LCU, "InstallPending"))
    assert wp.win_restore_plan(BEFORE, now)["remove"] == [LCU]


def test_the_backups_older_list_shape_without_a_state_still_reads():
    # backups made before this change hold PackageName and ReleaseType (an enum number in 5.1)
    before = json.dumps([{"PackageName": BASE, "ReleaseType": 7}, {"PackageName": LANG, "ReleaseType": 2}])
    now = _list((BASE, "Installed"), (LANG, "Installed"), (LCU, "Installed"))
    assert wp.win_restore_plan("\ufeff" + before, now)["remove"] == [LCU]


def test_a_state_serialised_as_its_enum_number_is_understood():
    now = json.dumps([{"PackageName": BASE, "PackageState": 7}, {"PackageName": LCU, "PackageState": 6}])
    assert wp.win_restore_plan(BEFORE, now)["remove"] == [LCU]


def test_every_untrustworthy_before_list_refuses_and_removes_nothing():
    now = _list((BASE, "Installed"), (LCU, "Installed"))
    for before, why in [
        ("", "is empty"),
        ("[]", "names no package"),
        ("null", "is not a list"),
        ("not json", "is not JSON"),
        (json.dumps({"PackageName": BASE}), "is not a list"),  # one object, not a list
        (json.dumps([None]), "entry 0 is not a package record"),  # what the old 5.1 pipeline produced
        (json.dumps([{"PackageName": None}]), "entry 0 has no package identity"),
        (json.dumps([{"PackageName": "x; format C:"}]), "has no package identity"),
        (json.dumps([{"PackageName": BASE, "PackageState": ["Installed"]}]), "no readable state"),
    ]:
        plan = wp.win_restore_plan(before, now)
        assert why in plan["refused"] and plan["refused"].endswith("no package removed"), before
        assert plan["remove"] == [], before


def test_a_damaged_list_from_the_seat_refuses_too():
    assert "the seat's package list" in wp.win_restore_plan(BEFORE, json.dumps([{"PackageName": 7}]))["refused"]


def test_a_list_sharing_nothing_with_the_seat_is_refused():
    other = _list(("Package_for_KB1~31bf3856ad364e35~amd64~~1.0", "Installed"))
    assert "shares no package" in wp.win_restore_plan(other, _list((BASE, "Installed")))["refused"]


def test_dism_exit_codes_are_judged_as_the_real_win_command_returns_them():
    results = [
        {"item": "A~31bf3856ad364e35~amd64~~1.0", "rc": 0, "failed": False, "start": "x"},
        {
            "item": "B~31bf3856ad364e35~amd64~~1.0",
            "rc": 3010,
            "failed": True,
            "msg": "non-zero return code",
            "start": "x",
        },
        {"item": "C~31bf3856ad364e35~amd64~~1.0", "rc": -2146498523, "failed": True, "start": "x"},
        {"item": "D~31bf3856ad364e35~amd64~~1.0", "rc": 5, "failed": True, "msg": "non-zero return code", "start": "x"},
        # a launch failure: rc is the launch error's code, the program never ran
        {"item": "E~31bf3856ad364e35~amd64~~1.0", "rc": 2, "failed": True, "msg": "Failed to run: 'dism.exe'"},
    ]
    out = wp.win_removal_outcome(results)
    assert out["removed"] == ["A~31bf3856ad364e35~amd64~~1.0", "B~31bf3856ad364e35~amd64~~1.0"]
    assert out["reboot_required"] is True
    assert [n["name"] for n in out["not_removed"]] == ["C~31bf3856ad364e35~amd64~~1.0"]
    assert [f["name"] for f in out["failed"]] == ["D~31bf3856ad364e35~amd64~~1.0", "E~31bf3856ad364e35~amd64~~1.0"]
    assert out["failed"][0]["reason"] == "DISM exit 5: non-zero return code"


def test_removed_packages_still_listed_after_the_reboot_are_named():
    assert wp.win_still_present([LCU], _list((BASE, "Installed"), (LCU, "Installed"))) == [LCU]
    assert wp.win_still_present([LCU], _list((BASE, "Installed"))) == []
    assert wp.win_still_present([LCU], "garbage") == [LCU]
