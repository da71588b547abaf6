"""Contract tests: ccops comply --fix on modelled Windows seats (issue 20, W2 and W3).

The real playbook (playbooks/comply.yml, role comply) runs against a seat modelled on the
controller (harness.py and the stand-ins under tests/windows/collections): local accounts and SIDs, the
Administrators group with a domain group and an orphaned SID in it, a password policy,
firewall rules as the firewall stores them. The stand-ins resolve members as the real
modules do (Convert-ToSID), and win_user writes a new account before it disables it.
"""

from __future__ import annotations

import copy

import pytest

from tests.windows import harness
from tests.windows.harness import DOMAIN_SID, MACHINE, local_user

POLICY = {
    "firewall": {"allow": [{"proto": "tcp", "ports": [5060], "from": ["10.20.0.0/16"]}], "deny": []},
    "accounts": {
        "managed": True,
        "present": [
            {"name": "helpdesk", "comment": "Helpdesk", "kind": "local", "admin": True},
            {"name": "trainer", "comment": "Trainer", "kind": "local", "admin": True},
        ],
        "revoked": [],
    },
}
OPENED_RULE = {  # the policy's rule, opened to every address by hand: same name, other effect
    "name": "ccops comply allow 1",
    "grouping": "ccops comply",
    "direction": 1,
    "action": 1,
    "enabled": True,
    "profiles": 2147483647,
    "protocol": 6,
    "local_ports": "5060",
    "remote_addresses": "*",
}
SEAT = harness.seat_state(
    computer="SHAPD-T0007",
    password_min_length=8,
    local_users={
        "Administrator": local_user(500, enabled=False),
        "svc-ccops": local_user(1001, full_name="ccops"),
        "agent01": local_user(1002, full_name="Agent 01"),
        "helpdesk": local_user(1003, full_name="Helpdesk"),
    },
    groups={
        "Administrators": [f"{MACHINE}-500", f"{MACHINE}-1001", f"{MACHINE}-1002", f"{DOMAIN_SID}-512"],
        "Remote Management Users": [],
    },
    domain={"name": "CORP", "accounts": {"CORP\\Domain Admins": f"{DOMAIN_SID}-512"}},
    firewall_profiles=[{"name": n, "enabled": True, "inbound": "Block"} for n in ("Domain", "Private", "Public")],
    firewall_rules=[OPENED_RULE],
)
ORPHANED = copy.deepcopy(SEAT)
ORPHANED["groups"]["Administrators"].append(f"{DOMAIN_SID}-4242")  # an account deleted from the domain
HOSTVARS = {"ccops_comply": POLICY, "ansible_user": "SHAPD-T0007\\svc-ccops"}
# no password policy: the account could be made without one; only the group changes otherwise
NO_POLICY = copy.deepcopy(SEAT)
NO_POLICY.update(password_min_length=0, firewall_rules=[{**OPENED_RULE, "remote_addresses": "10.20.0.0/255.255.0.0"}])


@pytest.fixture(scope="module")
def comply_runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("windows-comply")
    fixes = harness.run_contract(
        work,
        "comply.yml",
        "fix",
        {
            "seat": (SEAT, HOSTVARS),
            "orphaned": (ORPHANED, HOSTVARS),
            "nopolicy": (NO_POLICY, HOSTVARS),
            "linuxcard": (SEAT, {**HOSTVARS, "patch_restore_card": "command"}),
        },
    )
    checks = harness.run_contract(work / "check", "comply.yml", "check", {"checked": (SEAT, HOSTVARS)})
    return {**fixes, **checks}


def _admins(run) -> set[str]:
    return set(run.state["groups"]["Administrators"])


def test_fix_takes_and_gives_administrator_rights_by_sid_and_ends_compliant(comply_runs):
    run = comply_runs["seat"]
    assert run.outcome() == "ok", run.failure()
    assert run.report()["outcome"] == "fixed"
    trainer = run.state["local_users"]["trainer"]["sid"]
    assert _admins(run) == {
        f"{MACHINE}-500",  # the built-in Administrator stays
        f"{MACHINE}-1001",  # the connection account stays
        f"{MACHINE}-1003",  # helpdesk, declared
        trainer,  # created by this fix, declared
        f"{DOMAIN_SID}-512",  # a domain group is the domain's business
    }
    changes = [c for c in run.calls if c["op"].startswith("win_group_membership")]
    assert all(len(c["args"]["members"]) == 1 for c in changes)  # one named action per member


def test_members_are_named_so_the_module_resolves_them(comply_runs):
    # 7aee806 sent .\\helpdesk: Convert-ToSID split it into '.', '' and 'helpdesk' and failed
    run = comply_runs["nopolicy"]
    assert run.outcome() == "ok", run.failure()
    assert f"{MACHINE}-1003" in _admins(run) and f"{MACHINE}-1002" not in _admins(run)


def test_without_a_password_policy_no_enabled_account_with_a_blank_password_is_made(comply_runs):
    trainer = comply_runs["nopolicy"].state["local_users"]["trainer"]
    assert trainer["enabled"] is False and trainer["password"] != ""


def test_an_orphaned_sid_does_not_stop_the_fix_and_is_left_alone(comply_runs):
    run = comply_runs["orphaned"]
    assert run.outcome() == "ok", run.failure()
    assert f"{DOMAIN_SID}-4242" in _admins(run) and f"{MACHINE}-1002" not in _admins(run)


def test_declared_accounts_are_created_disabled_with_a_password_never_shown(comply_runs):
    run = comply_runs["seat"]
    trainer = run.state["local_users"]["trainer"]
    assert trainer["enabled"] is False and trainer["full_name"] == "Trainer"
    assert len(trainer["password"]) >= 32
    assert trainer["password"] not in run.stdout
    assert trainer["password"] not in (run.root / "calls.jsonl").read_text()


def test_a_rule_with_the_policys_name_but_another_effect_is_rewritten(comply_runs):
    run = comply_runs["seat"]
    rule = next(r for r in run.state["firewall_rules"] if r["name"] == "ccops comply allow 1")
    assert rule["remote_addresses"] == "10.20.0.0/255.255.0.0"
    deviations = " ".join(d["detail"] for d in run.report()["fixed"])
    assert "remote addresses '*'" in deviations


def test_a_check_reads_facts_changes_nothing_and_names_every_deviation(comply_runs):
    run = comply_runs["checked"]
    assert run.outcome() == "failed" and "out of policy" in run.failure()
    assert run.ops() == ["comply.facts"]
    details = [d["detail"] for d in run.report()["deviations"]]
    assert "trainer is missing" in details
    assert "agent01 is in Administrators but the inventory does not make it a local administrator" in details


def test_a_linux_restore_card_on_a_windows_seat_is_refused_before_any_change(comply_runs):
    run = comply_runs["linuxcard"]
    assert run.outcome() == "failed"
    assert "restore card command does not exist on Windows" in run.failure()
    assert run.calls == []
