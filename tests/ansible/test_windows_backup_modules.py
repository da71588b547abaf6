"""The Windows backup tasks (make, lock, restore) use real collection modules with parameters those
modules document (the check of tests/ansible/test_windows_decommission.py, on roles/backup)."""

from __future__ import annotations

import pytest

from tests.ansible.test_windows_decommission import _check_modules
from tests.conftest import ROOT

FILES = sorted((ROOT / "roles" / "backup" / "tasks").glob("*_windows.yml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_module_parameter_is_one_the_collection_documents(path):
    _check_modules(path)


def test_the_lock_and_the_restores_removals_are_checked():
    assert _check_modules(ROOT / "roles" / "backup" / "tasks" / "lock_windows.yml") >= 2
    assert _check_modules(ROOT / "roles" / "backup" / "tasks" / "restore_windows.yml") >= 8
