"""Quarantine on both sides, resolved in ccops.inventory.compliance: the held host's own firewall and every
other host's allow-list, checked against the lock-out rules (ccops.inventory.firewall, the host module's own
evaluator and ruleset, the Windows WinRM check) and the site file's ``quarantine:`` key."""

from __future__ import annotations

import pytest

from ccops.errors import InventoryError
from ccops.inventory.compliance import dropping_hosts, hold_refusal, host_compliance, set_held
from ccops.inventory.firewall import decide, lockout
from ccops.inventory.load import load_inventory
from ccops.windows.lockout import winrm_lockout
from tests.conftest import write_inventory
from tests.unit.test_compliance import _state_module

SITE = """\
site:
  code: tst
  city: testcity
  timezone: UTC
  management: [10.9.0.5, 10.9.1.0/24]
  node: tst-node
  distribution_point: {url: "http://10.9.3.3/debian"}
  backup_target: {host: tst-bk, path: /srv/backups}
  quarantine: {out_of_policy_days: 3, vuln_urgency: high, reverted: true}
connections:
  linux: {type: ssh, user: ccops, become: true}
groups:
  - {name: agents, role: agent_desktop, os: debian12, business_line: voice, connection: linux,
     hosts: "tst-a[01:04]", addresses: 10.1.0.10}
  - {name: cti, role: cti_server, os: debian12, business_line: shared, connection: linux,
     hosts: "tst-cti[1:2]", addresses: 10.1.1.10}
  - {name: infra, role: backup_server, os: debian12, business_line: shared, connection: linux,
     hosts: "tst-bk", addresses: 10.9.4.4}
  - {name: nodes, role: monitoring_server, os: debian12, business_line: shared, connection: linux,
     hosts: "tst-node", addresses: 10.9.5.5}
policies:
  - usb_storage: blocked
    firewall: {allow: [{ports: [22], from: [management]}], deny: [192.0.2.0/24]}
  - match: {roles: [agent_desktop]}
    firewall:
      allow:
        - {ports: [22], from: [management, site]}
        - {ports: [5060], proto: udp, from: ["group:agents", "role:cti_server"]}
"""
NEEDED = ["10.9.0.5", "10.9.1.0/24", "10.9.5.5", "10.9.3.3", "10.9.4.4"]  # management, node, point, backup target


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))  # a store of its own, with no hold
    return load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": SITE}))


def test_a_held_host_admits_only_what_fixes_it_on_every_port(inventory):
    set_held(inventory, {"tst-a02"})
    own = host_compliance(inventory, inventory.hosts["tst-a02"])
    assert own["firewall"] == {
        "allow": [
            {"proto": "tcp", "ports": ["1-65535"], "from": NEEDED},
            {"proto": "udp", "ports": ["1-65535"], "from": NEEDED},
        ],
        "deny": [],
    }
    set_held(inventory, {"tst-a02", "tst-cti2"})
    assert host_compliance(inventory, inventory.hosts["tst-cti2"])["firewall"]["deny"] == ["192.0.2.0/24"]  # kept
    assert own["usb_storage"] == "blocked"  # the other policies are untouched
    firewall = own["firewall"]
    for address, port in [("10.9.0.5", 22), ("10.9.1.77", 22), ("10.9.5.5", 22), ("10.9.3.3", 443), ("10.9.4.4", 873)]:
        assert decide(firewall, address, port)[0], address
        assert _state_module().admits(firewall, address, port), address
    for peer in ("10.1.0.10", "10.1.1.10", "10.1.0.12"):  # its site's other hosts: shut out
        assert not decide(firewall, peer, 22)[0] and not decide(firewall, peer, 5060, "udp")[0]
    assert lockout(firewall, "10.9.0.5", 22) == ""
    assert winrm_lockout(firewall, ["10.9.0.5", "10.9.1.0/24"], 5986) == ""
    ruleset = _state_module().ruleset(firewall, "tst")
    assert "tcp dport { 1-65535 } accept" in ruleset and "udp dport { 1-65535 } accept" in ruleset


def test_every_other_host_leaves_held_hosts_out_of_its_sources(inventory):
    before = host_compliance(inventory, inventory.hosts["tst-a01"])["firewall"]["allow"]
    assert before[0]["from"] == ["10.9.0.5", "10.9.1.0/24", "10.1.0.10-10.1.0.13", "10.1.1.10-10.1.1.11",
                                 "10.9.4.4", "10.9.5.5"]  # fmt: skip
    set_held(inventory, {"tst-a02", "tst-cti2"})
    after = host_compliance(inventory, inventory.hosts["tst-a01"])["firewall"]["allow"]
    assert after[0]["from"] == ["10.9.0.5", "10.9.1.0/24", "10.1.0.10", "10.1.0.12-10.1.0.13", "10.1.1.10",
                                "10.9.4.4", "10.9.5.5"]  # fmt: skip
    assert after[1]["from"] == ["10.1.0.10", "10.1.0.12-10.1.0.13", "10.1.1.10"]  # group:agents and role:cti_server
    assert not decide({"allow": after, "deny": []}, "10.1.0.11", 22)[0]
    assert decide({"allow": before, "deny": []}, "10.1.0.11", 22)[0]  # it was admitted before the hold
    set_held(inventory, set())
    assert host_compliance(inventory, inventory.hosts["tst-a01"])["firewall"]["allow"] == before


def test_the_hosts_that_drop_a_held_host_are_named(inventory):
    assert dropping_hosts(inventory, inventory.hosts["tst-a02"]) == ["tst-a01", "tst-a03", "tst-a04"]
    agents = ["tst-a01", "tst-a02", "tst-a03", "tst-a04"]
    assert dropping_hosts(inventory, inventory.hosts["tst-cti1"]) == agents  # site and role:cti_server
    assert dropping_hosts(inventory, inventory.hosts["tst-node"]) == agents  # site only


def test_a_hold_that_would_cut_the_site_off_or_lock_ccops_out_is_refused(inventory, tmp_path):
    assert hold_refusal(inventory, inventory.hosts["tst-a01"]) == ""
    assert "backup target" in hold_refusal(inventory, inventory.hosts["tst-bk"])
    assert "execution node" in hold_refusal(inventory, inventory.hosts["tst-node"])
    bare = load_inventory(
        write_inventory(tmp_path / "bare", {"tst.yml": SITE.replace("  management: [10.9.0.5, 10.9.1.0/24]\n", "")
                        .replace("  quarantine: {out_of_policy_days: 3, vuln_urgency: high, reverted: true}\n", "")})
    )  # fmt: skip
    assert "declares no management addresses" in hold_refusal(bare, bare.hosts["tst-a01"])


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("{out_of_policy_days: -1}", "quarantine.out_of_policy_days: -1 is not between 0 and 3650"),
        ("{vuln_urgency: severe}", "quarantine.vuln_urgency"),
        ("{reverted: yes please}", "quarantine.reverted"),
        ("{held: true}", "quarantine"),
    ],
)
def test_a_bad_quarantine_key_is_one_line_naming_file_and_line(tmp_path, value, words):
    # validation fails before any policy is resolved: no store is read
    text = SITE.replace("{out_of_policy_days: 3, vuln_urgency: high, reverted: true}", value)
    with pytest.raises(InventoryError) as error:
        load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": text}))
    assert "tst.yml:9:" in str(error.value) and words in str(error.value), str(error.value)


def test_a_site_that_holds_hosts_must_name_its_management_addresses(tmp_path):
    text = SITE.replace("  management: [10.9.0.5, 10.9.1.0/24]\n", "")
    with pytest.raises(InventoryError) as error:
        load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": text}))
    assert "tst.yml:8: site.quarantine: a held host admits only site.management" in str(error.value)


def test_a_node_known_only_by_a_dns_name_cannot_be_admitted_so_no_host_is_held(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    text = SITE.replace("  node: tst-node\n", "  node: {address: node.tst.example, connection: linux}\n")
    inventory = load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": text}))
    assert "site.node 'node.tst.example' is no address" in hold_refusal(inventory, inventory.hosts["tst-a01"])
