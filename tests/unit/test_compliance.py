"""Policies resolved per host from the inventory, the nftables ruleset built from them, JUnit XML."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET

import pytest

from ccops.inventory.compliance import compress, host_compliance
from ccops.inventory.firewall import Rule, decide, input_chain, lockout
from ccops.inventory.load import load_inventory
from ccops.report.junit import compliance_junit
from ccops.run.request import RunResult
from ccops.runner.events import HostOutcome
from tests.conftest import ROOT, write_inventory

SITE = """\
site:
  code: tst
  city: testcity
  timezone: UTC
  management: [10.9.0.5, 10.9.1.0/24]
connections:
  linux: {type: ssh, user: ccops, become: true}
groups:
  - {name: agents, role: agent_desktop, os: debian12, business_line: voice, connection: linux,
     hosts: "tst-a[01:04]", addresses: 10.1.0.10}
  - {name: cti, role: cti_server, os: debian12, business_line: shared, connection: linux,
     hosts: "tst-cti[1:2]", addresses: 10.1.1.10}
hosts:
  tst-a04: {lifecycle: retired}
policies:
  - usb_storage: blocked
    services: [ssh]
    firewall: {allow: [{ports: [22], from: [management]}], deny: [192.0.2.0/24]}
  - match: {roles: [agent_desktop]}
    services: [ssh, cron]
    firewall:
      allow:
        - {ports: [22], from: [management, site]}
        - {ports: [5060, "10000-10100"], proto: udp, from: ["group:cti"]}
accounts:
  - {name: zhang, comment: "Zhang Wei", admin: true}
  - {name: li, match: {roles: [cti_server]}}
  - {name: wang, state: revoked}
"""


def _inventory(tmp_path, text=SITE):
    return load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": text}))


def test_later_policies_override_earlier_ones_for_the_hosts_they_match(tmp_path):
    inventory = _inventory(tmp_path)
    agent = host_compliance(inventory, inventory.hosts["tst-a01"])
    server = host_compliance(inventory, inventory.hosts["tst-cti1"])
    assert agent["services"] == ["ssh", "cron"] and server["services"] == ["ssh"]
    assert agent["usb_storage"] == server["usb_storage"] == "blocked"
    assert server["firewall"]["allow"] == [{"proto": "tcp", "ports": ["22"], "from": ["10.9.0.5", "10.9.1.0/24"]}]
    assert agent["firewall"]["deny"] == []  # the later entry's firewall replaces the earlier one whole


def test_allow_lists_are_the_inventorys_in_service_addresses(tmp_path):
    inventory = _inventory(tmp_path)
    allow = host_compliance(inventory, inventory.hosts["tst-a01"])["firewall"]["allow"]
    # the retired seat (10.1.0.13) is out; the group's consecutive addresses are one range
    assert allow[0]["from"] == ["10.9.0.5", "10.9.1.0/24", "10.1.0.10-10.1.0.12", "10.1.1.10-10.1.1.11"]
    assert allow[1] == {"proto": "udp", "ports": ["5060", "10000-10100"], "from": ["10.1.1.10-10.1.1.11"]}


def test_a_host_that_leaves_the_inventory_leaves_the_allow_lists(tmp_path):
    inventory = _inventory(tmp_path, SITE.replace('hosts: "tst-cti[1:2]"', 'hosts: "tst-cti1"'))
    allow = host_compliance(inventory, inventory.hosts["tst-a01"])["firewall"]["allow"]
    assert allow[1]["from"] == ["10.1.1.10"]


def test_accounts_are_scoped_like_policies(tmp_path):
    inventory = _inventory(tmp_path)
    agent = host_compliance(inventory, inventory.hosts["tst-a01"])["accounts"]
    server = host_compliance(inventory, inventory.hosts["tst-cti1"])["accounts"]
    assert [a["name"] for a in agent["present"]] == ["zhang"] and agent["revoked"] == ["wang"]
    assert [a["name"] for a in server["present"]] == ["zhang", "li"]
    assert agent["present"][0] == {"name": "zhang", "kind": "person", "comment": "Zhang Wei", "admin": True}


def test_a_site_without_policies_has_nothing_to_check(tmp_path):
    plain = SITE.replace("  management: [10.9.0.5, 10.9.1.0/24]\n", "").partition("policies:")[0]
    inventory = _inventory(tmp_path, plain)
    assert host_compliance(inventory, inventory.hosts["tst-a01"]) is None


def test_compress_keeps_versions_apart_and_runs_together():
    assert compress(["10.0.0.3", "10.0.0.1", "10.0.0.2", "10.0.0.9", "fd00::1", "fd00::2"]) == [
        "10.0.0.1-10.0.0.3",
        "10.0.0.9",
        "fd00::1-fd00::2",
    ]


def _state_module():
    path = ROOT / "roles" / "comply" / "library" / "ccops_comply_state.py"
    spec = importlib.util.spec_from_file_location("ccops_comply_state", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_ruleset_replaces_the_ccops_table_atomically_and_admits_only_the_allow_list(tmp_path):
    state = _state_module()
    inventory = _inventory(tmp_path)
    policy = host_compliance(inventory, inventory.hosts["tst-a01"])["firewall"]
    text = state.ruleset(policy, "tst")
    assert "table inet ccops {}\ndelete table inet ccops\ntable inet ccops {" in text
    assert "policy drop;" in text
    assert "ip saddr { 10.1.1.10-10.1.1.11 } udp dport { 5060, 10000-10100 } accept" in text
    assert state.admits(policy, "10.9.1.77", 22) and state.admits(policy, "10.1.0.12", 22)
    assert not state.admits(policy, "10.1.0.13", 22)  # the retired seat
    assert not state.admits(policy, "10.1.2.1", 22)  # an address the inventory does not name


def test_ruleset_elements_are_rechecked_on_the_host():
    state = _state_module()
    hostile = {"allow": [{"proto": "tcp", "ports": ["22 } accept; flush ruleset"], "from": ["10.0.0.1; x"]}]}
    text = state.ruleset(hostile, "tst")
    assert "flush" not in text and "; x" not in text and "dport" not in text


def test_junit_has_a_case_per_host_and_policy_and_a_failure_per_deviating_policy():
    reports = {
        "h1": {
            "policies": ["usb_storage", "services"],
            "deviations": [{"policy": "services", "detail": "cron is not running"}],
            "fixed": [],
        },
        "h2": {"policies": ["usb_storage", "services"], "deviations": [], "fixed": []},
    }
    hosts = [HostOutcome("h1", "failed"), HostOutcome("h2", "ok"), HostOutcome("h3", "unreachable", message="no route")]
    result = RunResult("R1", "comply-check", "failed", 2, hosts, reports, "", "")
    root = ET.fromstring(compliance_junit(result))  # noqa: S314 (our own output)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "1")
    suites = {s.get("name"): s for s in root}
    failure = suites["h1"].find("testcase[@name='services']/failure")
    assert failure.get("message") == "cron is not running"
    assert suites["h3"].find("testcase/error").get("message") == "unreachable: no route"


def _nft_address_rules(text: str) -> list[str]:
    """The input chain's rules that name source addresses, in the order the file has them."""
    chain = text.split("chain input {", 1)[1].split("chain output {", 1)[0]
    return [line.strip() for line in chain.splitlines() if " saddr " in line]


def _render(rule: Rule) -> str:
    family = "ip" if rule.version == 4 else "ip6"
    head = f"{family} saddr {{ {', '.join(rule.sources)} }}"
    return (
        f"{head} drop" if rule.verdict == "drop" else f"{head} {rule.proto} dport {{ {', '.join(rule.ports)} }} accept"
    )


def test_the_evaluator_reads_the_rules_in_the_order_the_module_writes_them(tmp_path):
    state = _state_module()
    inventory = _inventory(tmp_path, SITE.replace("deny: [192.0.2.0/24]", "deny: [192.0.2.0/24, 2001:db8::/32]"))
    for name in ("tst-a01", "tst-cti1"):
        policy = host_compliance(inventory, inventory.hosts[name])["firewall"]
        policy = {**policy, "deny": ["192.0.2.0/24", "2001:db8::/32"]}
        written = _nft_address_rules(state.ruleset(policy, "tst"))
        assert written == [_render(r) for r in input_chain(policy)]
        assert written[0].endswith("drop") and written[1].startswith("ip6 saddr { 2001:db8::/32 }")


def test_a_deny_rule_decides_before_the_allow_rule_that_names_the_controller(tmp_path):
    inventory = _inventory(tmp_path)
    firewall = {**host_compliance(inventory, inventory.hosts["tst-cti1"])["firewall"], "deny": ["0.0.0.0/0"]}
    assert decide(firewall, "10.9.0.5", 22) == (False, "deny 0.0.0.0/0")
    assert "would not reach SSH port 22: deny 0.0.0.0/0" in lockout(firewall, "10.9.0.5", 22)
    # the host-side check read only the allow-list and let this through; it now reads deny first
    assert not _state_module().admits(firewall, "10.9.0.5", 22)
    allowed = {**firewall, "deny": ["192.0.2.0/24"]}
    assert decide(allowed, "10.9.1.77", 22) == (True, "allow tcp 22 from 10.9.0.5, 10.9.1.0/24")
    assert lockout(allowed, "10.9.1.77", 22) == "" and lockout(allowed, "::ffff:10.9.0.5", 22) == ""
    assert decide(allowed, "10.9.0.5", 2222) == (False, "no allow rule admits it (policy drop)")
    assert decide(allowed, "10.9.0.5\n", 22)[0] is False
    assert lockout(None, "10.9.0.5", 22) == "" and lockout(allowed, "", 22) == ""


MGMT = {"proto": "tcp", "ports": ["22"], "from": ["10.9.0.5", "10.9.1.0/24", "fd00:9::/64"]}
RULE_SETS = [
    {"allow": [MGMT], "deny": []},
    {"allow": [MGMT], "deny": ["0.0.0.0/0"]},
    {"allow": [MGMT], "deny": ["10.9.0.5/32"]},
    {"allow": [MGMT], "deny": ["10.9.0.5"]},
    {"allow": [MGMT], "deny": ["10.9.0.1-10.9.0.9"]},
    {"allow": [MGMT], "deny": ["::/0"]},
    {"allow": [MGMT], "deny": ["::ffff:10.9.0.5"]},  # not an IPv4 element: nftables' ip rule never sees it
    {"allow": [MGMT], "deny": ["192.0.2.0/24", "2001:db8::/32"]},
    {"allow": [{**MGMT, "proto": "udp"}], "deny": []},
    {"allow": [{**MGMT, "ports": ["20-30"]}], "deny": []},
    {"allow": [{**MGMT, "ports": ["2222"]}], "deny": []},
    {"allow": [{**MGMT, "ports": ["22 } accept"]}], "deny": []},
    {"allow": [{**MGMT, "from": ["10.9.0.0/16; x", "10.9.0.0/16"]}], "deny": ["10.9.1.0/24"]},
    {"allow": [], "deny": []},
]
ADDRESSES = ["10.9.0.5", "::ffff:10.9.0.5", "10.9.1.77", "::ffff:10.9.1.77", "fd00:9::5", "10.9.2.1", "garbage"]


@pytest.mark.parametrize("firewall", RULE_SETS)
def test_the_host_module_and_the_controller_agree_on_who_reaches_ssh(firewall):
    """The module runs on the host and cannot import ccops: it keeps its own small evaluator,
    which must answer as ccops.inventory.firewall does (deny first, IPv4-mapped clients as IPv4)."""
    state = _state_module()
    for address in ADDRESSES:
        for port in (22, 25):
            assert state.admits(firewall, address, port) == decide(firewall, address, port)[0], (address, port)


def test_the_host_module_refuses_a_deny_of_the_controller_before_its_allow_rule():
    state = _state_module()
    for deny in (["0.0.0.0/0"], ["10.9.0.5/32"], ["10.9.0.0/16"]):
        firewall = {"allow": [MGMT], "deny": deny}
        assert not state.admits(firewall, "10.9.0.5", 22) and not state.admits(firewall, "::ffff:10.9.0.5", 22)
    assert state.admits({"allow": [MGMT], "deny": ["192.0.2.0/24"]}, "::ffff:10.9.0.5", 22)


def test_the_fix_time_filter_asks_the_same_evaluator():
    spec = importlib.util.spec_from_file_location(
        "comply_firewall", ROOT / "roles" / "comply" / "filter_plugins" / "comply_firewall.py"
    )
    assert spec and spec.loader
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    check = plugin.FilterModule().filters()["comply_firewall_lockout"]
    firewall = {"allow": [{"proto": "tcp", "ports": ["22"], "from": ["10.9.0.5"]}], "deny": ["10.0.0.0/8"]}
    assert "deny 10.0.0.0/8" in check(firewall, "10.9.0.5", "22")
    assert check({**firewall, "deny": []}, "10.9.0.5", 22) == ""
    assert "not an IP address" in check(firewall, "garbage; rm", 22)
    assert check("not a mapping", "10.9.0.5", 22) == ""
