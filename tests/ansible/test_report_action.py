"""One way for a role to hand back a host's result: the ccops_report action (roles/ccops).

Run through ansible-playbook on the controller (connection local), the way a role uses it: the
task's result carries ansible_facts.ccops_report (what ccops's event collector reads) and later
tasks read the fact; a report without an outcome and a reason fails the task. The shared
settings resolve the restore card from the inventory once (ccops_restore_card)."""

import json
import subprocess

import pytest

from tests.conftest import BIN, ROOT

PLAY = """
- hosts: all
  gather_facts: false
  roles: [ccops]
  tasks:
    - name: Report
      ccops_report:
        report: {outcome: up_to_date, reason: "nothing to do", extra: "{{ ccops_restore_card }}"}
    - name: Read the fact back
      ansible.builtin.assert:
        that: ccops_report.outcome == 'up_to_date' and ccops_report.extra == EXPECTED_CARD
    - name: Report without a reason
      ccops_report:
        report: {outcome: applied}
"""


def _run(tmp_path, host_vars: str, expected_card: str) -> dict:
    playbook = tmp_path / "report.yml"
    playbook.write_text(PLAY.replace("EXPECTED_CARD", repr(expected_card)))
    inventory = tmp_path / "hosts"
    inventory.write_text(f"seat ansible_connection=local ansible_python_interpreter=auto_silent {host_vars}\n")
    env = {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(ROOT / "roles"),
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
    }
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    output = json.loads(proc.stdout)
    return {t["task"]["name"]: t["hosts"]["seat"] for t in output["plays"][0]["tasks"] if "seat" in t["hosts"]}


@pytest.mark.parametrize(
    ("host_vars", "card"),
    [("", "none"), ("patch_restore_card=uwf", "uwf"), ("patch_restore_card=uwf restore_card_type=lab", "lab")],
)
def test_a_report_is_a_fact_ccops_reads_from_the_task_result(tmp_path, host_vars, card):
    results = _run(tmp_path, host_vars, card)
    report = results["Report"]["ansible_facts"]["ccops_report"]
    assert report == {"outcome": "up_to_date", "reason": "nothing to do", "extra": card}
    assert not results["Report"].get("changed")
    assert not results["Read the fact back"].get("failed"), results["Read the fact back"]
    unreasoned = results["Report without a reason"]
    assert unreasoned["failed"] and "lacks reason" in unreasoned["msg"]
    assert "ccops_report" not in (unreasoned.get("ansible_facts") or {})
