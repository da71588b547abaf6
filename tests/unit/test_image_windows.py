"""Windows re-imaging is not a ccops path (issue 20, W7): the plans name task files that
refuse a Windows seat in one line, and nothing stages a WIM over WinRM.

The behaviour itself (a Windows seat sent to reimage.yml fails before any call reaches it)
is a contract test: tests/windows/test_reimage_contract.py.
"""

from __future__ import annotations

import yaml

from ccops.inventory.load import load_inventory
from ccops.plan.build import host_actions
from ccops.verbs import VERBS
from tests.conftest import EXAMPLE, ROOT


def test_plans_for_windows_seats_name_files_that_refuse_them():
    inventory = load_inventory(EXAMPLE)
    seats = [h for h in inventory.hosts.values() if h.os == "win11"][:3]
    for verb, expected in (("reimage", "netboot_windows.yml"), ("deploy", "converge_windows.yml")):
        files = [s.file for a in host_actions(VERBS[verb], seats, inventory) for s in a.steps]
        assert f"roles/deploy/tasks/{expected}" in files, files
        for file in files:
            assert (ROOT / file).is_file(), f"{verb}: the plan names {file}, which does not exist"
        tasks = yaml.safe_load((ROOT / "roles/deploy/tasks" / expected).read_text())
        assert [list(t)[1] for t in tasks] == ["ansible.builtin.fail"], expected


def test_no_wim_is_staged_or_read_over_winrm():
    assert not (ROOT / "playbooks" / "stage_wim.yml").exists()
    text = "".join(p.read_text() for p in (ROOT / "roles" / "deploy" / "tasks").glob("*_windows.yml"))
    assert "bcdedit" not in text.replace("`bcdedit /enum firmware`", "") and "win_copy" not in text
