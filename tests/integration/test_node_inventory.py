"""Sites with execution nodes in the run loop, and what a node job carries (no lab needed).

The loop is driven by the scripted engine; the real node engine is proven on the lab
(tests/lab/test_lab_node.py) and the node's helper with a real worker (test_node_helper.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from ccops.inventory.select import Selector
from ccops.node.job import stage_job
from ccops.run import RunRequest, prepare
from ccops.run.prepare import write_snapshot
from tests.conftest import BIN, write_inventory

SITE = """\
site:
  code: {code}
  city: testcity
  timezone: UTC
  node: {node}
  maintenance_windows: [{{start: "00:00", end: "00:00"}}]
  rollout: {{canary: 1, waves: ["100%"], batch_size: 2, max_fail_percentage: 0}}
connections:
  linux:
    type: ssh
    user: ccops
    become: true
    key_file: {key}
    known_hosts: {known}
    become_password: {{file: {secret}}}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: {code}-t[01:03]
    addresses: {address}
"""
BECOME = "the-become-password-of-the-test"


def _inventory(tmp_path: Path) -> Path:
    (tmp_path / "secret").write_text(BECOME + "\n")
    (tmp_path / "known").write_text("10.9.0.1 ssh-ed25519 AAAA\n")
    common = {"key": tmp_path / "key", "known": tmp_path / "known", "secret": tmp_path / "secret"}
    south_node = "{address: 10.9.1.200, connection: linux}"
    return write_inventory(
        tmp_path / "inv",
        {
            "north.yml": SITE.format(code="north", node="north-t01", address="10.9.0.1", **common),
            "south.yml": SITE.format(code="south", node=south_node, address="10.9.1.1", **common),
        },
    )


def test_the_node_reads_the_rendered_inventory_with_only_what_the_job_carries(tmp_path, monkeypatch):
    """Stock ansible-inventory with the job's ansible.cfg and the ccops modules the job carries first on
    the path (a module the job lacks fails the import instead of coming from this machine)."""
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    prepared = prepare(RunRequest(_inventory(tmp_path), "inspect", Selector(sites=("north",)), change_id="CHG-5"))
    snapshot = write_snapshot(tmp_path / "run", prepared)
    staged = tmp_path / "job" / "pdd"
    job = stage_job(staged, snapshot, ["north-t02"], str(tmp_path / "job"), "/nonexistent")
    env = {**os.environ, "PYTHONPATH": str(staged / "project" / "src"), "ANSIBLE_CONFIG": job.envvars["ANSIBLE_CONFIG"]}
    env.pop("ANSIBLE_INVENTORY_ENABLED", None)
    proc = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(staged / job.inventory), "--list", "-vvvv"],
        cwd=staged / "project", env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "with ccops plugin" in proc.stdout + proc.stderr
    hostvars = json.loads(proc.stdout[proc.stdout.index("{") :])["_meta"]["hostvars"]
    assert set(hostvars) == {"north-t02"} and "debian12" in json.dumps(hostvars["north-t02"]["ccops_os"])
