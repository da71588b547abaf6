"""A node job's ssh-agent dies with the controller that loaded the key, SIGKILL included.

A child Python process starts the job agent exactly as a node job does (ccops.node.agent.JobAgent)
with a throwaway key, says so once the key is loaded, and is SIGKILLed. No wait on a clock: the
test blocks on the keeper's pidfd until it has exited (it stops the agent first).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ccops.node.agent import sweep_stale_agents
from ccops.processes import Process

CONTROLLER = """
import json, sys
from pathlib import Path
from ccops.node.agent import JobAgent
agent = JobAgent([sys.argv[1]], Path(sys.argv[2]), "w1-b1-a1")
print(json.dumps({"agent": agent.agent_pid, "keeper": agent.keeper.pid, "socket": str(agent.socket)}), flush=True)
sys.stdin.read()  # holds the key until killed, or until the test closes stdin: the job's end
agent.stop()
"""


@pytest.fixture
def key(tmp_path: Path) -> Path:
    path = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "throwaway", "-f", str(path)], check=True)
    return path


@pytest.fixture
def runtime(monkeypatch):
    """Agents' sockets under this test's own folder (XDG_RUNTIME_DIR), here and in the child.

    A short one: tmp_path is too long for a socket path."""
    folder = Path(tempfile.mkdtemp(prefix="ccops-agent-test-"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder, {**os.environ, "XDG_RUNTIME_DIR": str(folder)}
    shutil.rmtree(folder, ignore_errors=True)


def _start_controller(key: Path, run_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen, dict]:
    controller = subprocess.Popen(
        [sys.executable, "-c", CONTROLLER, str(key), str(run_dir)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    assert controller.stdout is not None
    started = json.loads(controller.stdout.readline())  # the marker: the key is in the agent
    listed = subprocess.run(
        ["ssh-add", "-l"], env={**env, "SSH_AUTH_SOCK": started["socket"]}, capture_output=True, text=True, check=False
    )
    assert "throwaway" in listed.stdout, listed  # the agent holds the key
    cmdline = Path(f"/proc/{started['agent']}/cmdline").read_bytes().split(b"\0")
    assert b"-t" in cmdline  # and has a lifetime, for when nothing else stops it
    return controller, started


def _wait_gone(pid: int) -> None:
    """Block until ``pid`` (not our child) has exited."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        assert select.select([fd], [], [], 30)[0], f"pid {pid} still runs"
    finally:
        os.close(fd)


def test_sigkill_of_the_controller_takes_the_agent_and_its_socket(key, runtime, tmp_path):
    folder, env = runtime
    controller, started = _start_controller(key, tmp_path / "runs" / "20261207T000000Z-agent1", env)
    agent = Process.of(started["agent"])
    assert agent is not None and agent.state() == "alive"
    controller.send_signal(signal.SIGKILL)
    controller.wait()
    _wait_gone(started["keeper"])
    assert agent.state() != "alive"  # gone, or its pid is another process now
    assert not Path(started["socket"]).exists()
    assert not list(folder.glob("ccops-agents-*/*/*"))  # no socket, no record left


def test_an_agent_orphaned_with_its_keeper_is_stopped_at_the_next_start(key, runtime, tmp_path):
    """Keeper and controller both killed (the lifetime would end it): the next job or resume sweeps it."""
    folder, env = runtime
    controller, started = _start_controller(key, tmp_path / "runs" / "20261207T000000Z-agent2", env)
    agent = Process.of(started["agent"])
    os.kill(started["keeper"], signal.SIGKILL)
    _wait_gone(started["keeper"])
    controller.send_signal(signal.SIGKILL)
    controller.wait()
    assert agent is not None and agent.state() == "alive"  # orphaned, as the issue found it
    assert agent.pid in sweep_stale_agents()
    assert agent.state() != "alive"
    assert not Path(started["socket"]).exists()
    assert not list(folder.glob("ccops-agents-*/*/*"))


def test_an_agent_orphaned_by_an_earlier_ccops_is_stopped_too(tmp_path):
    """Before agents had records: ``ssh-agent -D -a TMP/ccops-agent-XXXXXXXX/agent``, its parent gone."""
    folder = Path(tempfile.mkdtemp(prefix="ccops-agent-"))
    try:
        socket = folder / "agent"
        shell = 'ssh-agent -D -a "$1" >/dev/null 2>&1 & echo $!; while [ ! -S "$1" ]; do :; done'
        started = subprocess.run(
            ["sh", "-c", shell, "sh", str(socket)], capture_output=True, text=True, check=True, timeout=30
        )
        pid = int(started.stdout)
        orphan = Process.of(pid)
        assert orphan is not None and orphan.state() == "alive"
        if int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) != 1:
            pytest.skip("orphans are re-parented to a subreaper here, not to pid 1")
        assert pid in sweep_stale_agents()
        assert orphan.state() != "alive"
        assert not folder.exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_end_of_a_job_stops_its_agent(key, runtime, tmp_path):
    folder, env = runtime
    controller, started = _start_controller(key, tmp_path / "runs" / "20261207T000000Z-agent3", env)
    agent = Process.of(started["agent"])
    controller.stdin.close()  # the child's job ends: it stops the agent, as NodeEngine.run does
    controller.wait(timeout=30)
    assert controller.returncode == 0
    assert agent is not None and agent.state() != "alive"
    assert not Path(started["socket"]).exists()
    assert not list(folder.glob("ccops-agents-*/*"))  # the run's folder too
