"""Sites with execution nodes in the run loop, and what a node job carries (no lab needed).

The loop is driven by the scripted engine; the real node engine is proven on the lab
(tests/lab/test_lab_node.py) and the node's helper with a real worker (test_node_helper.py).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from ccops.errors import EXIT_HALTED, EXIT_OK
from ccops.inventory.load import load_inventory
from ccops.inventory.select import Selector
from ccops.node.job import stage_job
from ccops.node.target import node_target
from ccops.run import RunRequest, execute, open_store, prepare
from ccops.run.prepare import write_snapshot
from ccops.runner.engine import Batch, Execution
from ccops.runner.events import OUTCOME_UNKNOWN
from tests.conftest import write_inventory
from tests.scripted import ScriptedEngine

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


class SideBySide(ScriptedEngine):
    """Scripted, with the node router's answer: every site has a node; each site's batch waits for the
    other site's to start (a barrier, not a sleep), so only batches that run side by side get past."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.spans: dict[str, tuple[float, float]] = {}
        self.threads: set[str] = set()
        self.together = threading.Barrier(2, timeout=30)

    def side_by_side(self, site: str) -> bool:
        return True

    def run(self, batch: Batch, execution: Execution) -> str:
        started = time.monotonic()
        self.threads.add(threading.current_thread().name)
        self.together.wait()  # one after the other, the first batch waits alone and the barrier breaks
        status = super().run(batch, execution)
        self.spans[batch.ident + ":" + batch.hosts[0]] = (started, time.monotonic())
        return status


def test_the_node_of_a_site_is_resolved_from_a_host_or_an_address(tmp_path, monkeypatch):
    inventory = load_inventory(_inventory(tmp_path))
    north = node_target(inventory, inventory.sites["north"])
    south = node_target(inventory, inventory.sites["south"])
    assert (north.name, north.address, north.user) == ("north-t01", "10.9.0.1", "ccops")
    assert (south.name, south.address) == ("10.9.1.200", "10.9.1.200")
    argv = north.ssh_argv("python3", "x y")
    assert argv[-3:] == ["--", "10.9.0.1", "python3 'x y'"]
    assert "StrictHostKeyChecking=yes" in argv and f"UserKnownHostsFile={tmp_path / 'known'}" in argv


def test_sites_with_nodes_run_side_by_side_and_gates_stay_here(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    inventory = _inventory(tmp_path)
    engine = SideBySide()
    result = execute(prepare(RunRequest(inventory, "inspect", Selector(), change_id="CHG-1")), engine=engine)
    assert result.exit_code == EXIT_OK
    (n0, n1), (s0, s1) = sorted(engine.spans.values())
    assert n0 < s1 and s0 < n1, "the two sites' batches ran one after the other"
    assert len(engine.threads) == 2
    # a failed canary at one site halts the run before any later wave, whichever site it is
    engine = SideBySide(script={"south-t01": "failed"})
    result = execute(prepare(RunRequest(inventory, "patch", Selector(), change_id="CHG-2")), engine=engine)
    assert result.exit_code == EXIT_HALTED
    assert sorted(h for b in engine.batches for h in b.hosts) == ["north-t01", "south-t01"]


class LostStream(ScriptedEngine):
    def run(self, batch: Batch, execution: Execution) -> str:
        self.batches.append(batch)
        collector = execution.collector
        collector({"event": "runner_on_ok", "event_data": {"host": batch.hosts[0], "task": "t", "res": {}}})
        collector.lost = "the stream from node x was lost"
        return "lost"


def test_a_lost_stream_leaves_the_batch_unknown_and_stops_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    engine = LostStream()
    request = RunRequest(_inventory(tmp_path), "patch", Selector(sites=("north",)), change_id="CHG-3")
    result = execute(prepare(request), engine=engine)
    assert result.exit_code == EXIT_HALTED and "lost" in (result.message or "")
    assert len(engine.batches) == 1
    record = open_store().run(result.run_id)
    assert [(h["host"], h["outcome"]) for h in record.hosts] == [("north-t01", OUTCOME_UNKNOWN)]


def test_a_node_job_carries_no_secret_and_no_key_in_its_files(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    prepared = prepare(RunRequest(_inventory(tmp_path), "inspect", Selector(sites=("north",)), change_id="CHG-4"))
    snapshot = write_snapshot(tmp_path / "run", prepared)
    job = stage_job(tmp_path / "staged", snapshot, ["north-t01", "north-t02"], "/dev/shm/ccops-node-9/j1", "/n/site")
    for path in (tmp_path / "staged").rglob("*"):
        if path.is_file():
            assert BECOME.encode() not in path.read_bytes(), path
    hosts = json.loads((tmp_path / "staged" / job.inventory).read_text())["hosts"]
    assert set(hosts) == {"north-t01", "north-t02"}
    hostvars = hosts["north-t01"]["vars"]
    assert "ansible_ssh_private_key_file" not in hostvars and job.keys == [str(tmp_path / "key")]
    assert (
        "UserKnownHostsFile=/dev/shm/ccops-node-9/j1/pdd/project/known_hosts/0" in hostvars["ansible_ssh_common_args"]
    )
    assert (tmp_path / "staged" / "project" / "known_hosts" / "0").read_text() == (tmp_path / "known").read_text()
    name = hostvars["ccops_secret_become_password_env"]
    assert job.envvars[name] == BECOME and name in job.secret_names
    assert (
        hostvars["ansible_become_password"] == "{{ lookup('ansible.builtin.env', ccops_secret_become_password_env) }}"
    )
    assert (tmp_path / "staged" / "project" / "src" / "ccops" / "ansible_plugins" / "inventory" / "ccops.py").is_file()


def test_a_changing_run_never_goes_through_the_node_it_changes(tmp_path, monkeypatch):
    from ccops.errors import RefusedError
    from ccops.node.engine import SiteRouter
    from ccops.runner.engine import Batch

    inventory = load_inventory(_inventory(tmp_path))
    router = SiteRouter(inventory, direct=ScriptedEngine())
    batch = Batch("w1-b1-a1", "playbooks/patch.yml", tmp_path, ["north-t01"], {"ccops_action": "patch"}, 5)
    with pytest.raises(RefusedError, match="CCOPS_NODES=off"):
        router.engine_for(batch)
    assert router.engine_for(
        Batch("i", "playbooks/inspect.yml", tmp_path, ["north-t01"], {"ccops_action": "inspect"}, 5)
    )
    assert router.engine_for(Batch("p", "playbooks/patch.yml", tmp_path, ["north-t02"], {"ccops_action": "patch"}, 5))
