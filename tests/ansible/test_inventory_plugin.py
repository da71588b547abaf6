"""Stock Ansible and ccops read the same inventory: same hosts, groups and variables."""

import json
import subprocess

import pytest

from tests.conftest import BIN, EXAMPLE, ROOT, ccops_env, run_ccops
from tests.json_output import ansible_plain, payload
from tests.unit.test_inventory_list_groups import ansible_merge


def _groups(doc: dict) -> dict[str, set]:
    return {
        name: set(body.get("hosts", []))
        for name, body in doc.items()
        if name not in ("_meta", "all", "ungrouped") and body.get("hosts")
    }


@pytest.mark.slow
def test_ansible_inventory_and_ccops_agree_on_the_example(tmp_path):
    stock = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(EXAMPLE), "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=ccops_env(tmp_path),
        timeout=300,
    )
    ours = run_ccops(tmp_path, "inventory", "list", "-i", str(EXAMPLE), "--output", "json", check=True)
    stock_doc, our_doc = ansible_plain(json.loads(stock.stdout)), payload(ours.stdout)
    assert len(stock_doc["_meta"]["hostvars"]) == 3200
    # ours carries what a site shares in its group's vars: Ansible's merge of it is stock's hostvars
    assert stock_doc["_meta"]["hostvars"] == ansible_merge(our_doc)
    assert _groups(stock_doc) == _groups(our_doc)
    assert {
        "site_shapd",
        "city_nanjing",
        "role_agent_desktop",
        "os_win11",
        "family_debian",
        "line_credit_card",
        "state_retiring",
    } <= set(_groups(stock_doc))


def test_the_plugin_refuses_a_bad_inventory_with_file_and_line(tmp_path):
    bad = tmp_path / "inv"
    (bad / "sites").mkdir(parents=True)
    (bad / "ccops.yml").write_text("plugin: ccops\n")
    (bad / "sites" / "x.yml").write_text("site: {code: x1, city: c, timezone: UTC}\ngroups: 7\n")
    # ccops runs Ansible with unparsed inventories failing (stock Ansible only warns)
    env = {**ccops_env(tmp_path), "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1"}
    result = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(bad), "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert "x.yml:2: groups: expected a list, got a number" in result.stderr
