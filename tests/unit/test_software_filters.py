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
