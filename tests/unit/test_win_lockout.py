"""The Windows Firewall lock-out guard a comply fix asks before it writes anything (ccops.windows.lockout).

On Windows a block rule wins over every allow rule, whoever wrote it: no block rule a fix writes
may name a management address, or WinRM is gone from that address for good."""

from __future__ import annotations

import importlib.util

import pytest

from ccops.inventory.export import host_vars, site_vars
from ccops.inventory.load import load_inventory
from ccops.windows.comply import wanted_rules
from ccops.windows.lockout import winrm_lockout
from tests.conftest import EXAMPLE, ROOT

MANAGEMENT = ["10.21.200.5", "10.21.201.0/28"]
WINRM = {"proto": "tcp", "ports": [5986], "from": ["10.21.200.5", "10.21.201.0/28"]}


def _firewall(*allow: dict, deny: list[str] | None = None) -> dict:
    return {"allow": list(allow), "deny": deny or []}


@pytest.mark.parametrize(
    ("deny", "rule"),
    [
        (["0.0.0.0/0"], "0.0.0.0/0"),
        (["10.21.200.5/32"], "10.21.200.5/32"),
        (["10.21.200.5"], "10.21.200.5"),
        (["10.21.201.7"], "10.21.201.7"),  # one jump host of the management network
        (["10.21.200.1-10.21.200.9"], "10.21.200.1-10.21.200.9"),
        (["::ffff:10.21.200.5"], "::ffff:10.21.200.5"),  # IPv4-mapped: the same IPv4 client
        (["198.51.100.0/24", "10.0.0.0/8"], "10.0.0.0/8"),
    ],
)
def test_a_block_rule_over_a_management_address_refuses_the_fix_whatever_the_allow_rules_say(deny, rule):
    why = winrm_lockout(_firewall(WINRM, deny=deny), MANAGEMENT, 5986)
    assert f"rule 'ccops comply deny in' blocks {rule}" in why
    assert why.startswith("the management address 10.21.")


def test_the_allow_side_is_not_judged_the_seat_keeps_its_own_winrm_rule():
    """A fix removes no rule but ccops's own and Windows blocks inbound by default anyway: WinRM
    reaches the seat through its own allow rule, which the seat does not report."""
    assert winrm_lockout(_firewall(WINRM, deny=["198.51.100.0/24", "2001:db8::/32"]), MANAGEMENT, 5986) == ""
    assert winrm_lockout(_firewall({**WINRM, "ports": [22]}), MANAGEMENT, 5986) == ""
    assert winrm_lockout(_firewall(deny=["10.21.201.16/28"]), MANAGEMENT, 5986) == ""  # beside the /28
    assert winrm_lockout(_firewall(deny=["10.21.201.15"]), MANAGEMENT, 5986).startswith(
        "the management address 10.21.201.0/28 would not reach WinRM port 5986: rule 'ccops comply deny in'"
    )


def test_what_cannot_be_evaluated_refuses_and_nothing_declared_is_not_refused():
    assert "cannot rule out" in winrm_lockout(_firewall(WINRM, deny=["LocalSubnet"]), MANAGEMENT, 5986)
    assert "is not an IP address" in winrm_lockout(_firewall(WINRM), ["jump1"], 5986)
    assert "not of the shape" in winrm_lockout({"allow": [{"from": ["10.21.200.5"]}]}, MANAGEMENT, 5986)
    assert "cannot rule out" in winrm_lockout(_firewall(deny=["Internet"]), MANAGEMENT, 5986)
    assert "not of the shape" in winrm_lockout(_firewall(WINRM), MANAGEMENT, "https")
    assert winrm_lockout({}, MANAGEMENT, 5986) == "" and winrm_lockout(_firewall(), [], 5986) == ""


def test_the_guard_reads_the_rules_the_fix_writes():
    """Outbound block rules do not stop a WinRM client; the inbound one the fix writes does."""
    firewall = _firewall(WINRM, deny=["10.21.200.5"])
    assert [r["direction"] for r in wanted_rules(firewall) if r["action"] == "block"] == ["in", "out"]
    assert "rule 'ccops comply deny in'" in winrm_lockout(firewall, MANAGEMENT, 5986)


def test_every_windows_seat_of_the_example_centre_keeps_winrm():
    inventory = load_inventory(EXAMPLE)
    seats = [h for h in inventory.hosts.values() if h.os_family == "windows"]
    assert seats
    for host in seats:
        variables = {**site_vars(inventory.sites[host.site]), **host_vars(inventory, host)}
        firewall = variables.get("ccops_comply", {}).get("firewall")
        if firewall is not None:
            assert winrm_lockout(firewall, variables["ccops_management"], variables.get("ansible_port", 5986)) == ""


def test_the_fix_time_filter_asks_the_same_evaluator():
    path = ROOT / "roles" / "comply" / "filter_plugins" / "comply_win_lockout.py"
    spec = importlib.util.spec_from_file_location("comply_win_lockout", path)
    assert spec and spec.loader
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    check = plugin.FilterModule().filters()["comply_win_lockout"]
    assert "blocks 0.0.0.0/0" in check(_firewall(WINRM, deny=["0.0.0.0/0"]), MANAGEMENT, "5986")
    assert check(_firewall(WINRM), MANAGEMENT, 5986) == ""
    assert check(_firewall(WINRM, deny=["0.0.0.0/0"]), "10.21.200.5", 5986) == ""  # not a list: no addresses
