"""ccops comply on Windows decides on the controller (ccops.windows.comply) from the facts
roles/comply/files/comply_state.ps1 gathers: shapes as that script and the firewall's
COM API (HNetCfg.FwPolicy2, as win_firewall_rule reads it) return them."""

from __future__ import annotations

import copy

import pytest

from ccops.windows.comply import DamagedFacts, decide

MACHINE = "S-1-5-21-1111111111-2222222222-3333333333"
DOMAIN = "S-1-5-21-7777777777-8888888888-9999999999"
FACTS = {
    "computer": "SHAPD-T0007",
    "usb_start": 4,
    "inactivity_timeout": 600,
    "winrm": {"AllowBasic": 0, "AllowUnencryptedTraffic": None},
    "hosts_lines": ["# hosts", "0.0.0.0 games.example.com"],
    "firewall_profiles": [
        {"name": "Domain", "enabled": True, "inbound": "Block"},
        {"name": "Private", "enabled": True, "inbound": "Block"},
        {"name": "Public", "enabled": True, "inbound": "Block"},
    ],
    "firewall_rules": [
        {
            "name": "ccops comply allow 1",
            "direction": 1,
            "action": 1,
            "enabled": True,
            "profiles": 2147483647,
            "protocol": 6,
            "local_ports": "5060,5061",
            "remote_addresses": "10.20.0.0/255.255.0.0",
        }
    ],
    "services": [{"name": "WinRM", "status": "Running", "start_type": "Automatic"}],
    "local_users": [
        {"name": "Administrator", "sid": f"{MACHINE}-500", "enabled": False, "full_name": ""},
        {"name": "ccops", "sid": f"{MACHINE}-1001", "enabled": True, "full_name": "ccops"},
        {"name": "agent01", "sid": f"{MACHINE}-1002", "enabled": True, "full_name": "Agent 01"},
        {"name": "helpdesk", "sid": f"{MACHINE}-1003", "enabled": True, "full_name": "Helpdesk"},
        {"name": "olduser", "sid": f"{MACHINE}-1004", "enabled": True, "full_name": ""},
    ],
    "admin_group": {
        "name": "Administratoren",
        "members": [
            {"sid": f"{MACHINE}-500", "adspath": "WinNT://CORP/SHAPD-T0007/Administrator"},
            {"sid": f"{MACHINE}-1001", "adspath": "WinNT://CORP/SHAPD-T0007/ccops"},
            {"sid": f"{MACHINE}-1002", "adspath": "WinNT://CORP/SHAPD-T0007/agent01"},
            {"sid": f"{DOMAIN}-512", "adspath": "WinNT://CORP/Domain Admins"},
            # an account deleted from the domain: Get-LocalGroupMember fails on it, ADSI lists it
            {"sid": f"{DOMAIN}-4242", "adspath": f"WinNT://{DOMAIN}-4242"},
        ],
    },
}
POLICY = {
    "usb_storage": "blocked",
    "firewall": {"allow": [{"proto": "tcp", "ports": [5060, 5061], "from": ["10.20.0.0/16"]}], "deny": []},
    "blocked_sites": ["games.example.com"],
    "screen_lock": {"idle_seconds": 600},
    "services": ["WinRM"],
    "winrm": {"allow_basic": False},
    "accounts": {
        "managed": True,
        "present": [
            {"name": "helpdesk", "comment": "Helpdesk", "kind": "local", "admin": True},
            {"name": "trainer", "comment": "Trainer", "kind": "local", "admin": True},
        ],
        "revoked": ["olduser"],
    },
}


def _decide(policy=None, facts=None, keep=("SHAPD-T0007\\ccops",)):
    return decide(copy.deepcopy(policy or POLICY), copy.deepcopy(facts or FACTS), list(keep))


def test_members_are_added_and_removed_one_by_one_by_sid_never_by_a_doubled_backslash():
    state = _decide()
    assert state["admin_group"] == "Administratoren"  # the group's own (translated) name
    # agent01 is not declared admin: removed by its SID; ccops (the connection account) and RID 500 stay
    assert state["admins_to_remove"] == [{"name": "agent01", "member": f"{MACHINE}-1002"}]
    # helpdesk exists: added by SID; trainer is created by this fix: added as .\trainer (one backslash)
    assert state["admins_to_add"] == [
        {"name": "helpdesk", "member": f"{MACHINE}-1003"},
        {"name": "trainer", "member": ".\\trainer"},
    ]
    assert all("\\\\" not in a["member"] for a in state["admins_to_add"])


def test_domain_members_and_orphaned_sids_are_listed_but_never_removed():
    state = _decide()
    removed = {a["member"] for a in state["admins_to_remove"]}
    assert f"{DOMAIN}-512" not in removed and f"{DOMAIN}-4242" not in removed
    assert state["unresolved_admin_sids"] == [f"{DOMAIN}-4242"]


def test_missing_accounts_are_created_and_revoked_ones_disabled():
    state = _decide()
    assert state["accounts_to_create"] == ["trainer"]
    assert state["accounts_to_revoke"] == ["olduser"]
    details = [d["detail"] for d in state["deviations"] if d["policy"] == "accounts"]
    assert details == ["trainer is missing"]


def test_a_disabled_declared_account_is_not_enabled_by_ccops():
    facts = copy.deepcopy(FACTS)
    facts["local_users"][3]["enabled"] = False  # helpdesk, created disabled by an earlier fix
    state = _decide(facts=facts)
    assert "helpdesk" not in state["accounts_to_create"] + state["accounts_to_correct"]


def test_a_rule_with_the_right_name_but_another_effect_is_rewritten():
    facts = copy.deepcopy(FACTS)
    facts["firewall_rules"][0]["remote_addresses"] = "*"  # opened to everyone by hand
    state = _decide(facts=facts)
    assert [r["name"] for r in state["rules_to_set"]] == ["ccops comply allow 1"]
    assert any("remote addresses '*'" in d["detail"] for d in state["deviations"])


def test_a_rule_the_firewall_stores_with_a_netmask_matches_its_prefix_policy():
    state = _decide()
    assert state["rules_to_set"] == [] and state["stale_rules"] == []
    assert state["deviations"] == [
        d for d in state["deviations"] if d["policy"] in ("accounts", "local_admins", "revoked_accounts")
    ]


def test_an_allow_rule_from_anywhere_is_any_not_the_address_0_0_0_0():
    policy = copy.deepcopy(POLICY)
    policy["firewall"]["allow"][0]["from"] = []
    facts = copy.deepcopy(FACTS)
    facts["firewall_rules"] = []
    state = _decide(policy=policy, facts=facts)
    assert state["rules_to_set"][0]["remoteip"] == "any"


def test_a_one_item_list_sent_as_the_item_is_read_as_a_list():
    facts = copy.deepcopy(FACTS)
    facts["firewall_rules"] = facts["firewall_rules"][0]  # PowerShell unrolls a one-item array
    assert _decide(facts=facts)["rules_to_set"] == []


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("admin_group", {"name": "Administrators", "members": [{"sid": "nope", "adspath": ""}]}, "not a SID"),
        ("local_users", 7, "local_users: not a list"),
        ("usb_start", "4", "usb_start"),
    ],
)
def test_damaged_facts_fail_the_host_in_one_line(key, value, words):
    facts = copy.deepcopy(FACTS)
    facts[key] = value
    with pytest.raises(DamagedFacts, match=words):
        _decide(facts=facts)
