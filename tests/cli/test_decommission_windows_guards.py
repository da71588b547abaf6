"""Windows decommission guards (issue 20, W4 and the restore card): a domain member that ccops
could not take out of its domain, or a Windows seat with a Linux restore card, is refused in
one line, exit 5, by the plan and by the run before any host is contacted. Hosts sit at
127.0.0.9, where nothing answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ccops_env, run_ccops
from tests.json_output import payload

SITE = """\
site:
  code: tst
  city: testcity
  timezone: UTC
  maintenance_windows: [{start: "00:00", end: "00:00"}]
  rollout: {canary: 1, waves: ["100%"], batch_size: 2, max_fail_percentage: 0}
  backup_target: {host: localhost, path: /var/tmp/ccops-windecom-backups}
connections:
  win: {type: winrm, user: svc-ccops, dns_domain: win.cc.example}
groups:
  - name: seats
    role: agent_desktop
    os: win11
    business_line: voice
    connection: win
    hosts: tst-w0[1:2]
    addresses: 127.0.0.9
    lifecycle: retiring
    vars: {VARS}
"""


def _inventory(tmp_path: Path, group_vars: str) -> Path:
    folder = tmp_path / "inv"
    (folder / "sites").mkdir(parents=True)
    (folder / "ccops.yml").write_text("plugin: ccops\nsites: sites\n")
    (folder / "sites" / "tst.yml").write_text(SITE.replace("{VARS}", group_vars))
    return folder


def _one_line_refusal(result, *words: str) -> None:
    assert result.returncode == 5, result.stdout + result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line, line
    for word in words:
        assert word in line, line


def _run(tmp_path: Path, inv: Path, *args: str, env: dict | None = None):
    home = tmp_path / "home"
    return run_ccops(home, *args, "-i", str(inv), "--limit", "tst-w01", env=env or ccops_env(home), timeout=300)


def test_the_plan_refuses_a_domain_member_without_an_account_to_leave_the_domain(tmp_path):
    inv = _inventory(tmp_path, "{}")
    result = _run(tmp_path, inv, "plan", "decommission")
    _one_line_refusal(result, "tst-w01", "domain member", "decommission_win_domain_user")


def test_the_run_refuses_it_before_any_host_is_contacted(tmp_path):
    inv = _inventory(tmp_path, "{}")
    result = _run(tmp_path, inv, "decommission", "--change-id", "CHG-W4", "--confirm", "tst-w01")
    _one_line_refusal(result, "tst-w01", "domain member")
    assert not list((tmp_path / "home").rglob("*.jsonl")), "a run started"


def test_a_run_without_the_leave_password_in_the_environment_is_refused(tmp_path):
    inv = _inventory(tmp_path, "{decommission_win_domain_user: 'CORP\\svc-leave'}")
    env = ccops_env(tmp_path / "home")
    env.pop("CCOPS_DOMAIN_LEAVE_PASSWORD", None)
    result = _run(tmp_path, inv, "decommission", "--change-id", "CHG-W4", "--confirm", "tst-w01", env=env)
    _one_line_refusal(result, "CCOPS_DOMAIN_LEAVE_PASSWORD", "not set")


def test_a_password_variable_ansible_would_never_see_is_refused(tmp_path):
    inv = _inventory(
        tmp_path, "{decommission_win_domain_user: 'CORP\\svc-leave', decommission_win_domain_password_env: LEAVE_PW}"
    )
    env = {**ccops_env(tmp_path / "home"), "LEAVE_PW": "x"}
    result = _run(tmp_path, inv, "decommission", "--change-id", "CHG-W4", "--confirm", "tst-w01", env=env)
    _one_line_refusal(result, "LEAVE_PW", "CCOPS_")


def test_the_plan_names_the_account_the_seat_leaves_the_domain_with(tmp_path):
    inv = _inventory(
        tmp_path,
        "{decommission_win_domain_user: 'CORP\\svc-leave', decommission_win_release_accounts: [svc-ccops, helpdesk]}",
    )
    result = _run(tmp_path, inv, "plan", "decommission", "--output", "json")
    assert result.returncode == 0, result.stderr
    revoke = payload(result.stdout)["decommission"]["tst-w01"]["revoke"]
    assert revoke["domain"] is True and revoke["domain_leave_as"] == "CORP\\svc-leave"
    assert revoke["logon_rights_of"] == ["helpdesk"]  # the connection account (svc-ccops) is kept


def test_a_workgroup_seat_needs_no_domain_account(tmp_path):
    inv = _inventory(tmp_path, "{decommission_win_domain_member: false}")
    result = _run(tmp_path, inv, "plan", "decommission", "--output", "json")
    assert result.returncode == 0, result.stderr
    assert payload(result.stdout)["decommission"]["tst-w01"]["revoke"]["domain"] is False


@pytest.mark.parametrize("card", ["command", "lab"])
def test_a_linux_restore_card_on_a_windows_seat_is_refused(tmp_path, card):
    inv = _inventory(tmp_path, f"{{decommission_win_domain_member: false, patch_restore_card: {card}}}")
    result = _run(tmp_path, inv, "plan", "decommission")
    # inventory validation refuses it for every verb (ccops.inventory.restore_cards): exit 1, FILE:LINE
    assert result.returncode == 1, result.stdout + result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "sites/tst.yml:19: tst-w01:" in line, line
    assert f"restore card '{card}'" in line and "windows" in line, line
