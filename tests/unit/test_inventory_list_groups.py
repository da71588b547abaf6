"""`ccops inventory list -o json`: what a site shares is in its group's vars once, and Ansible's merge of
the document gives every host exactly the variables `ccops inventory show` lists (site_vars + host_vars).

The merge here is Ansible's for an inventory script's document: every group of a host at depth 1
(children of all), applied in name order, then the host's own variables. tests/integration proves the
same with ansible-inventory itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ccops.inventory.compliance import set_held
from ccops.inventory.export import host_vars, site_group, site_vars, to_ansible_list
from ccops.inventory.load import load_inventory
from ccops.inventory.model import Inventory
from tests.conftest import EXAMPLE, write_inventory

SITE_SETTINGS = ("ccops_maintenance_windows", "ccops_distribution_point", "ccops_backup_target", "ccops_site")

# one site whose hosts share everything, one whose hosts differ in connection, port, compliance and vars
UNIFORM = """\
site: {code: uni, city: ucity, timezone: UTC, distribution_point: {host: uni-dp, path: /srv/d}}
connections:
  linux: {type: ssh, user: ccops, become: true, become_password: {env: CCOPS_UNI_BECOME}}
vars: {asset_log_lines: 5, note: site}
groups:
  - {name: agents, role: agent_desktop, os: debian12, business_line: voice, connection: linux,
     hosts: "uni-t[01:04]", addresses: 10.7.0.1}
policies:
  - {usb_storage: blocked, firewall: {allow: [{ports: [22], from: ["group:agents"]}]}}
"""
MIXED = """\
site: {code: mix, city: mcity, timezone: UTC}
connections:
  linux: {type: ssh, user: ccops, become: true}
  other: {type: ssh, user: someone, port: 2222, known_hosts: /tmp/my known hosts}
  windows: {type: winrm, port: 5986, transport: ntlm, cert_validation: ignore, user: adm,
            password: {env: "CCOPS_MIX_PW"}}
vars: {note: site, shared_list: [1, 2]}
groups:
  - {name: agents, role: agent_desktop, os: debian12, business_line: voice, connection: linux,
     hosts: "mix-t[01:03]", addresses: 10.8.0.1}
  - {name: others, role: database_server, os: debian13, business_line: back_office, connection: other,
     hosts: "mix-d[01:02]", addresses: 10.8.1.1}
  - {name: seats, role: agent_desktop, os: win11, business_line: voice, connection: windows,
     hosts: "mix-w[01:02]", addresses: 10.8.2.1}
hosts:
  mix-t02: {port: 2200, vars: {note: "the host's own wins"}}
  mix-t03: {connection: other, vars: {shared_list: [1, 2], odd: "quote\\"and\\u202e\\e[31m$(x)"}}
policies:
  - {usb_storage: blocked, services: [ssh]}
  - {match: {roles: [database_server]}, services: [ssh, postgresql]}
"""


def _hostile(folder: Path) -> Inventory:
    sites = {"uni.yml": UNIFORM, "mix.yml": MIXED}
    return load_inventory(write_inventory(folder, sites))


def ansible_merge(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every listed host's variables as Ansible merges an inventory script's document."""
    groups_of: dict[str, list[str]] = {}
    for name, body in document.items():
        if name not in ("_meta", "all"):
            for host in body.get("hosts", []):
                groups_of.setdefault(host, []).append(name)
    merged = {}
    for host, own in document["_meta"]["hostvars"].items():
        out: dict[str, Any] = {}
        for group in sorted(groups_of[host]):
            out.update(document[group].get("vars", {}))
        merged[host] = {**out, **own}
    return merged


def expected(inventory: Inventory, names: list[str]) -> dict[str, dict[str, Any]]:
    """What `ccops inventory show` lists for each host (and what every host's hostvars held before)."""
    return {n: {**site_vars(inventory.sites[inventory.hosts[n].site]), **host_vars(inventory, inventory.hosts[n])}
            for n in names}  # fmt: skip


def test_the_example_merges_to_every_host_s_variables_and_its_site_settings_are_written_once():
    inventory = load_inventory(EXAMPLE)
    document = to_ansible_list(inventory)
    assert ansible_merge(document) == expected(inventory, list(inventory.hosts))
    hostvars = document["_meta"]["hostvars"]
    assert len(hostvars) == 3200
    assert not any(key in own for own in hostvars.values() for key in SITE_SETTINGS)  # fails on the old document
    for code, site in inventory.sites.items():
        assert document[site_group(code)]["vars"]["ccops_maintenance_windows"] == site.maintenance_windows


def test_a_selection_keeps_only_its_hosts_and_their_variables(tmp_path):
    inventory = _hostile(tmp_path)
    names = ["mix-t02", "uni-t03", "mix-w01"]
    document = to_ansible_list(inventory, [inventory.hosts[n] for n in names])
    assert ansible_merge(document) == expected(inventory, names)
    assert document["site_uni"]["hosts"] == ["uni-t03"]


def test_hostile_sites_merge_exactly(tmp_path):
    inventory = _hostile(tmp_path)
    document = to_ansible_list(inventory)
    assert ansible_merge(document) == expected(inventory, list(inventory.hosts))
    hostvars = document["_meta"]["hostvars"]
    # a site whose hosts share their connection and compliance: written once, in the group
    uni = document["site_uni"]["vars"]
    assert uni["ansible_user"] == "ccops" and uni["ccops_secret_become_password_env"] == "CCOPS_UNI_BECOME"
    assert "ccops_comply" in uni and "ccops_comply" not in hostvars["uni-t01"]
    assert not any(k.startswith("ansible_") and k != "ansible_host" for k in hostvars["uni-t01"])
    # hosts that differ keep what differs
    assert hostvars["mix-t02"]["ansible_port"] == 2200 and hostvars["mix-t02"]["note"] == "the host's own wins"
    assert hostvars["mix-t03"]["ansible_user"] == "someone" and "ccops_comply" in hostvars["mix-d01"]


def test_held_hosts_keep_their_own_compliance(tmp_path):
    inventory = _hostile(tmp_path)
    set_held(inventory, {"uni-t02"})  # held apart: its compliance is resolved without it, and differs
    document = to_ansible_list(inventory)
    assert ansible_merge(document) == expected(inventory, list(inventory.hosts))


@pytest.mark.parametrize("name", ["ansible_user", "ccops_comply", "ccops_role"])
def test_a_host_variable_named_like_a_shared_one_still_merges_as_before(tmp_path, name):
    """Validation refuses ansible_ and ccops_ names in vars; were one to get through, a variable moved to
    the group would lose to the host's where the host's lost before: such a layer stays with the hosts."""
    inventory = _hostile(tmp_path)
    inventory.hosts["uni-t02"].vars[name] = "from the site file"
    document = to_ansible_list(inventory)
    assert ansible_merge(document) == expected(inventory, list(inventory.hosts))
