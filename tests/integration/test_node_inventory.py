"""What a node job carries, read by stock ansible-inventory (a process: the integration layer).

The sites and their nodes are tests/unit/test_node_runs.py's; the real node engine is proven on the lab
(tests/lab/test_lab_node.py) and the node's helper with a real worker (test_node_helper.py).
"""

from __future__ import annotations

import json
import os
import subprocess

from ccops.inventory.select import Selector
from ccops.node.job import stage_job
from ccops.run import RunRequest, prepare
from ccops.run.prepare import write_snapshot
from tests.conftest import BIN
from tests.unit.test_node_runs import _inventory


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
