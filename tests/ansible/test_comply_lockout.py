"""The comply role's fix-time lock-out guard, run by ansible-playbook on the real task file.

apply_debian.yml asks ccops.inventory.firewall (through the role's filter) before anything is written.
The host is this machine over a local connection, but the play stops at the guards: a lock-out
fails the first one; an admitted controller passes it and meets the second, which the stub
host-side answer makes fail on purpose, so no later task (files, nft, accounts) ever runs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, ROOT, ccops_env

HOST_SIDE = "host-side check reached"


def _play(tmp_path: Path, deny: list[str]) -> subprocess.CompletedProcess:
    facts = {
        "ccops_comply": {
            "firewall": {"allow": [{"proto": "tcp", "ports": ["22"], "from": ["10.9.0.5"]}], "deny": deny},
            "accounts": {"present": [], "revoked": [], "managed": False},
        },
        "comply_ssh_connection": {"stdout": "10.9.0.5 50122 10.1.0.10 22"},
        "comply_state": {"firewall_lockout": HOST_SIDE, "files": [], "absent": [], "deviations": []},
    }
    (tmp_path / "vars.json").write_text(json.dumps(facts))
    playbook = tmp_path / "guard.yml"
    playbook.write_text(
        "- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.include_role: {name: comply, tasks_from: apply_debian.yml}\n"
    )
    argv = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-e", f"@{tmp_path / 'vars.json'}", str(playbook)]
    return subprocess.run(argv, cwd=ROOT, env=ccops_env(tmp_path), capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("deny", [["0.0.0.0/0"], ["10.9.0.0/16"], ["10.9.0.5"]])
def test_a_deny_entry_holding_the_controller_stops_the_fix_before_anything_is_written(tmp_path, deny):
    result = _play(tmp_path, deny)
    assert result.returncode != 0
    assert "this controller (10.9.0.5) would not reach SSH port 22: deny" in result.stdout, result.stdout[-3000:]
    assert HOST_SIDE not in result.stdout


def test_an_admitted_controller_passes_the_controller_side_guard(tmp_path):
    result = _play(tmp_path, ["192.0.2.0/24"])
    assert result.returncode != 0 and HOST_SIDE in result.stdout, result.stdout[-3000:]
    assert "would not reach" not in result.stdout
