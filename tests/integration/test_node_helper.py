"""The node helper supervising a real `ansible-runner worker`, on this machine (no ssh in between).

The job stream is the real one (ansible_runner.streaming.Transmitter and Processor); the hosts
sit on loopback and either refuse (the job ends fast) or accept and never speak (the job stays
mid-batch for as long as the test needs). What is checked: events come back; the job's folder
in memory-backed storage is gone at the end; a lost stream leaves the job running to its end
with a journal and no secret; a killed supervisor's job is cleaned at the next preflight.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from ccops.node import ccops_node
from tests.cli.loopback import ADDRESS, ClosedPort, SilentListener

SECRET = "s3cret-value-for-the-node-test"


@pytest.fixture
def node_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A node install as prepare leaves it, pointing at this venv's ansible-core and ansible-runner.

    Its jobs live in a folder of this test's own in /dev/shm: two test runs never share jobs (a
    preflight of one run no longer cleans the other's, and no test waits on another's job)."""
    monkeypatch.setenv("CCOPS_NODE_JOBS_FOLDER", f"ccops-node-test-{os.getpid()}-{secrets.token_hex(4)}")
    home = tmp_path / "current"
    home.mkdir()
    (home / "ccops_node.py").write_bytes(Path(ccops_node.__file__).read_bytes())
    (home / "site").symlink_to(sysconfig.get_paths()["purelib"])
    yield home
    shutil.rmtree(_root(), ignore_errors=True)


def _stage(tmp_path: Path, port: int) -> Path:
    staged = tmp_path / "staged"
    (staged / "project").mkdir(parents=True)
    (staged / "inventory").mkdir()
    (staged / "project" / "ping.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.ping:\n"
    )
    (staged / "inventory" / "hosts").write_text(f"lo-t01 ansible_host={ADDRESS} ansible_port={port}\n")
    return staged


def _job(staged: Path, ident: str) -> bytes:
    from ansible_runner.streaming import Transmitter

    with tempfile.TemporaryFile() as out:  # the stream needs a real file (it asks for its name)
        _transmit(Transmitter, out, staged, ident)
        out.seek(0)
        return out.read()


def _transmit(transmitter: type, out: IO[bytes], staged: Path, ident: str) -> None:
    transmitter(
        _output=out, private_data_dir=str(staged), playbook="ping.yml", inventory="inventory/hosts",
        ident=ident, envvars={"CCOPS_NODE_SECRET_X": SECRET, "ANSIBLE_HOST_KEY_CHECKING": "False"},
        suppress_env_files=True, quiet=True,
    ).run()  # fmt: skip


def _helper(home: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(home / "ccops_node.py"), *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _root() -> Path:
    return Path("/dev/shm") / os.environ["CCOPS_NODE_JOBS_FOLDER"]


def _no_secret_under(folder: Path) -> None:
    for path in folder.rglob("*") if folder.exists() else []:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_job_streams_back_and_leaves_nothing_on_the_node(node_home, tmp_path):
    from ansible_runner.streaming import Processor

    refused = ClosedPort()
    try:
        helper = _helper(node_home, "run", "t1-ok")
        helper.stdin.write(_job(_stage(tmp_path, refused.port), "t1"))
        helper.stdin.close()
        events: list[dict] = []
        Processor(_input=helper.stdout, private_data_dir=str(tmp_path / "back"), ident="t1", quiet=True,
                  event_handler=lambda e: events.append(e) or True).run()  # fmt: skip
        helper.wait(timeout=60)
    finally:
        refused.close()
    assert any(e.get("event") == "runner_on_unreachable" for e in events)
    assert any(e.get("event") == "playbook_on_stats" for e in events)
    assert not (_root() / "t1-ok").exists()


def test_a_lost_stream_lets_the_job_finish_and_keeps_only_its_journal(node_home, tmp_path):
    silent = SilentListener()
    try:
        helper = _helper(node_home, "run", "t2-lost")
        helper.stdin.write(_job(_stage(tmp_path, silent.port), "t2"))
        helper.stdin.flush()
        assert silent.connected.wait(60), "the job never reached the host"
        job = _root() / "t2-lost"
        assert (job / "pdd").is_dir()
        helper.stdout.close()  # the jump host is gone: nobody reads, nobody writes
        helper.stdin.close()
        time.sleep(1)
        assert helper.poll() is None, "the supervisor went down with the stream"
    finally:
        silent.close()  # the host now drops the connection: the job ends unreachable
    helper.wait(timeout=90)
    assert (job / "done.json").exists()
    assert not (job / "pdd").exists(), "the worker's private data (its command file holds the secrets) stays"
    _no_secret_under(job)
    collect = _helper(node_home, "collect", "t2-lost", "30")
    out, _ = collect.communicate(timeout=60)
    lines = [json.loads(line) for line in out.splitlines()]
    assert any(d.get("event") == "playbook_on_stats" for d in lines)
    assert lines[-1]["ccops_done"]["lost"] is True
    assert not job.exists()


def test_a_killed_supervisor_is_cleaned_up_at_the_next_preflight(node_home, tmp_path):
    silent = SilentListener()
    try:
        helper = _helper(node_home, "run", "t3-killed")
        helper.stdin.write(_job(_stage(tmp_path, silent.port), "t3"))
        helper.stdin.flush()
        assert silent.connected.wait(60)
        job = _root() / "t3-killed"
        helper.send_signal(signal.SIGKILL)
        helper.wait()
        assert (job / "pdd").is_dir()  # the worker is still there, with the job's environment
        out = subprocess.run([sys.executable, str(node_home / "ccops_node.py"), "preflight"],
                             capture_output=True, check=True, timeout=60).stdout  # fmt: skip
        state = json.loads(out)
        assert "t3-killed" in state["cleaned"]
        assert state["ansible_core"] and state["ansible_runner"]
        assert not (job / "pdd").exists()
        _no_secret_under(job)
        leftovers = subprocess.run(["pgrep", "-f", str(job)], capture_output=True, text=True, check=False).stdout
        assert not leftovers.strip(), leftovers
    finally:
        silent.close()
        subprocess.run([sys.executable, str(node_home / "ccops_node.py"), "collect", "t3-killed", "1"],
                       capture_output=True, check=False, timeout=60)  # fmt: skip
