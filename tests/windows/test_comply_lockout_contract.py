"""Contract test: ccops comply --fix on a modelled Windows seat refuses a deny list that holds a
management address before it writes anything (ccops.windows.lockout, issue 19).

Windows Firewall lets a block rule win over every allow rule: the fix would write the block
rule and shut the jump hosts out of WinRM for good. The real playbook (playbooks/comply.yml,
role comply) runs against the seat modelled on the controller (harness.py and the stand-ins
under tests/windows/collections); never run on Windows here.
"""

from __future__ import annotations

import pytest

from tests.windows import harness
from tests.windows.test_comply_contract import HOSTVARS, SEAT

WINRM = {"proto": "tcp", "ports": [5986], "from": ["10.21.200.5", "10.21.200.6"]}


def _hostvars(deny: list[str]) -> dict:
    policy = {**HOSTVARS["ccops_comply"], "firewall": {"allow": [WINRM], "deny": deny}}
    management = ["10.21.200.5", "10.21.200.6"]
    return {**HOSTVARS, "ccops_comply": policy, "ccops_management": management, "ansible_port": 5986}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("windows-comply-lockout")
    return harness.run_contract(
        work,
        "comply.yml",
        "fix",
        {
            "denyall": (SEAT, _hostvars(["0.0.0.0/0"])),
            "denyjump": (SEAT, _hostvars(["10.21.200.6/32"])),
            "denyother": (SEAT, _hostvars(["198.51.100.0/24"])),
        },
    )


@pytest.mark.parametrize(("seat", "rule"), [("denyall", "0.0.0.0/0"), ("denyjump", "10.21.200.6/32")])
def test_a_deny_list_that_holds_a_management_address_is_refused_before_any_change(runs, seat, rule):
    run = runs[seat]
    assert run.outcome() == "failed"
    assert f"would not reach WinRM port 5986: rule 'ccops comply deny in' blocks {rule}" in run.failure()
    assert run.calls == []  # nothing asked of the seat, nothing written


def test_a_deny_list_beside_the_management_addresses_is_applied(runs):
    run = runs["denyother"]
    assert run.outcome() == "ok", run.failure()
    written = [c["args"] for c in run.calls if c["module"] == "win_firewall_rule"]
    assert any(a.get("name") == "ccops comply deny in" and a.get("remoteip") == "198.51.100.0/24" for a in written)
