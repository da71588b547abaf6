"""The software role's filters: what dpkg says is installed, and what a host's desired items change."""

import importlib.util

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("software_filters", ROOT / "roles/software/filter_plugins/software.py")
assert _spec and _spec.loader
filters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(filters)

PHONE = {"app": "ccops-softphone", "package": "ccops-softphone", "state": "present", "version": "2.0"}


def test_dpkg_lines_give_installed_packages_only():
    lines = ["ccops-softphone\t2.0\tii ", "old-tool\t1.1\trc ", "held\t3:1.2-1\thi ", "garbage line"]
    assert filters.dpkg_installed(lines) == {"ccops-softphone": "2.0", "held": "3:1.2-1"}


def test_a_host_at_its_desired_version_changes_nothing():
    assert filters.software_changes([PHONE], filters.dpkg_installed(["ccops-softphone\t2.0\tii "])) == []


def test_install_upgrade_and_remove_name_where_from_and_to():
    absent = {**PHONE, "app": "old-tool", "package": "old-tool", "state": "absent"}
    installed = filters.dpkg_installed(["ccops-softphone\t1.0\tii ", "old-tool\t1.1\tii "])
    changes = filters.software_changes([PHONE, absent], installed)
    assert [(c["action"], c["from"], c["to"]) for c in changes] == [("upgrade", "1.0", "2.0"), ("remove", "1.1", "")]
    assert filters.software_changes([PHONE], {})[0]["action"] == "install"


def _win(app, kind, **fields):
    return {"app": app, "state": "absent", "kind": kind, "product_code": "", "detect": {}, "uninstall": [], **fields}


def test_a_windows_removal_never_runs_the_installer():
    code = "{2F6B1C4E-8A3D-4B7F-9E21-5C0D7A9B3E10}"
    items = [
        _win("crm", "msi", product_code=code, file="crm.msi", arguments="/qn"),
        _win("recorder", "exe", detect={"path": "C:\\Rec\\rec.exe"}, uninstall=["C:\\Rec\\uninstall.exe", "/S"]),
        _win("dialer", "exe", detect={"product_id": "ContosoDialer"}, arguments="/S /INSTALL"),
        _win("viewer", "exe", detect={"path": "C:\\Viewer\\viewer.exe"}, arguments="/S"),  # only its installer
        {"app": "linux-only", "state": "absent"},  # no artefact for this OS
    ]
    plan = filters.win_removal_plan(items)
    assert plan["by_product_id"] == [
        {"app": "crm", "product_id": code},
        {"app": "dialer", "product_id": "ContosoDialer"},
    ]
    assert plan["by_command"] == [{"app": "recorder", "argv": ["C:\\Rec\\uninstall.exe", "/S"]}]
    assert [r.split(":")[0] for r in plan["refused"]] == ["viewer"]
    assert plan["verify_by_id"] == plan["by_product_id"]
    assert plan["verify_by_path"] == [{"app": "recorder", "path": "C:\\Rec\\rec.exe"}]
