"""Stock ansible-inventory reads `ccops inventory list -o json` (served by an inventory script) and gives
every host exactly the variables `ccops inventory show` lists: a site's shared variables, written once in
its group's vars, reach each of its hosts, and nothing a host has differently is lost or overridden."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ccops.inventory.load import load_inventory
from tests.conftest import BIN, EXAMPLE, ROOT, ccops_env, run_ccops, write_inventory
from tests.json_output import ansible_plain, payload
from tests.unit.test_inventory_list_groups import MIXED, UNIFORM, expected


def _served(tmp_path: Path, document: dict) -> dict:
    """ansible-inventory --list of ``document`` served as an inventory script's answer."""
    (tmp_path / "doc.json").write_text(json.dumps(document))
    script = tmp_path / "inventory.py"
    script.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"sys.stdout.write(open({str(tmp_path / 'doc.json')!r}).read() if '--list' in sys.argv else '{{}}')\n"
    )
    script.chmod(0o755)
    env = {**ccops_env(tmp_path / "home"), "ANSIBLE_INVENTORY_ENABLED": "script"}
    env["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "1"  # a script Ansible cannot read fails, never lists nothing
    proc = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(script), "--list"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return ansible_plain(json.loads(proc.stdout))


def _check(tmp_path: Path, inventory: Path, *selectors: str) -> dict:
    listed = run_ccops(tmp_path, "inventory", "list", "-i", str(inventory), "-o", "json", *selectors, check=True)
    ours = payload(listed.stdout)
    merged = _served(tmp_path, ours)["_meta"]["hostvars"]
    model = load_inventory(inventory)
    assert merged == json.loads(json.dumps(expected(model, list(ours["_meta"]["hostvars"]))))
    return ours


def test_ansible_merges_the_hostile_sites_document_to_each_host_s_variables(tmp_path):
    sites = {"uni.yml": UNIFORM, "mix.yml": MIXED}
    inventory = write_inventory(tmp_path / "inv", sites)
    ours = _check(tmp_path, inventory)
    assert len(ours["_meta"]["hostvars"]) == 11 and "ansible_user" in ours["site_uni"]["vars"]
    ours = _check(tmp_path, inventory, "--limit", "mix-t0*", "--limit", "uni-t02")
    assert sorted(ours["site_mix"]["hosts"]) == ["mix-t01", "mix-t02", "mix-t03"]


@pytest.mark.slow
def test_ansible_merges_the_example_document_to_each_host_s_variables(tmp_path):
    ours = _check(tmp_path, EXAMPLE)
    assert len(ours["_meta"]["hostvars"]) == 3200
