"""A host-reported machine identity (roles/backup/filter_plugins/machine_identity.py), on the
values win_powershell's result and win_reg_stat's value can carry."""

import importlib.util

import pytest

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location(
    "machine_identity", ROOT / "roles/backup/filter_plugins/machine_identity.py"
)
assert _spec and _spec.loader
mi = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mi)


def test_a_machine_guid_and_a_machine_id_are_identities():
    assert mi.ccops_machine_identity("6f1c2a9e-3b7d-4e15-9a42-0c8d5e7b1f30") == "6f1c2a9e-3b7d-4e15-9a42-0c8d5e7b1f30"
    assert mi.ccops_machine_identity(" 0123456789abcdef0123456789abcdef\n") == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "reported",
    [
        None,
        "",
        "   ",
        12345,
        ["6f1c2a9e-3b7d-4e15-9a42-0c8d5e7b1f30"],
        {"a": 1},
        "{{ lookup('env', 'HOME') }}",
        "6f1c2a9e 3b7d",
        "abc",
        "6f1c2a9e-3b7d-4e15-9a42-0c8d5e7b1f30\nX",
    ],
)
def test_anything_else_a_host_reports_is_no_identity(reported):
    assert mi.ccops_machine_identity(reported) == ""
