"""A killed controller on a real host: `kill -9` of ccops alone leaves its Ansible running the batch;
`ccops resume` waits for that Ansible, never runs a second one beside it, and finishes the run."""

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ccops.locks import Locks
from ccops.processes import Process, ansible_processes
from tests.conftest import BIN, ROOT, ccops_env, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec, versions

pytestmark = pytest.mark.lab
HOST = "lab-deb12-01"


@pytest.fixture(scope="module")
def fleet(lab_home):
    # an address of its own gives a fresh, unpatched host whatever earlier modules did to the fleet
    run_ccops(
        lab_home,
        "lab",
        "up",
        "--hosts",
        "1",
        "--variants",
        "debian12",
        "--first-address",
        "10.213.0.40",
        check=True,
        timeout=1800,
    )
    yield lab_home
    run_ccops(lab_home, "lab", "up", "--hosts", "3", timeout=1800)


def _wait(what: str, check, timeout: float = 300, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _task_started(artifacts: Path, task: str) -> bool:
    for event in artifacts.glob("job_events/*.json"):
        try:
            data = json.loads(event.read_text())
        except (OSError, ValueError):
            continue
        if data.get("event") == "playbook_on_task_start" and data["event_data"].get("task") == task:
            return True
    return False


def _ansible_child(pid: int) -> Process | None:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(fields[1]) == pid and any(a.endswith(b"/ansible-playbook") for a in argv[:2]):
            return Process.of(int(stat.parent.name))
    return None


@pytest.fixture
def started():
    """Processes this test starts; whatever is left of them when it fails is killed."""
    processes: list = []  # Popen objects (ours to reap) and Process identities (the orphan)
    yield processes
    for process in processes:
        if isinstance(process, subprocess.Popen):
            if process.poll() is None:
                process.kill()
                process.wait()
        elif process.state() == "alive":  # never a pid that another process got since
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)


def test_resume_after_kill_9_waits_for_the_orphaned_ansible_and_runs_one_per_host(fleet, started):
    before = versions(HOST)
    proc = subprocess.Popen(
        [str(BIN / "ccops"), "patch", "--yes", "--change-id", "CHG-RUNS-KILL", "--limit", HOST, "--output", "json"],
        cwd=ROOT,
        env=ccops_env(fleet),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    started.append(proc)
    run_id = _wait(
        "the run record",
        lambda: [
            r["run_id"]
            for r in payload(run_ccops(fleet, "runs", "list", "-o", "json", check=True).stdout)
            if r["change_id"] == "CHG-RUNS-KILL"
        ],
        every=1,
    )[0]
    run_dir = Path(fleet) / "runs" / run_id
    first = run_dir / "artifacts" / "w1-b1-a1"
    _wait("the install task", lambda: _task_started(first, "Install the selected updates"), every=0.5)
    # the task's module runs under sudo (sh -c 'echo BECOME-SUCCESS-...; python3'); the tasks before it are over
    _wait("apt on the host", lambda: pexec(HOST, "pgrep", "-f", "BECOME-SUCCESS", check=False).strip())
    orphan = _ansible_child(proc.pid)
    assert orphan is not None
    started.append(orphan)
    recorded = Locks(fleet).leftover_ansible(run_id)
    assert [(a.process, a.ident, a.hosts) for a in recorded] == [(orphan, "w1-b1-a1", [HOST])]

    killed_with = {p.name for p in (run_dir / "artifacts").iterdir()}  # patch's select pass, then the batch
    assert killed_with == {"select-a1", "w1-b1-a1"}
    os.kill(proc.pid, signal.SIGKILL)  # ccops only: its Ansible child goes on, unsupervised
    proc.wait()
    assert orphan.state() == "alive"
    assert payload(run_ccops(fleet, "runs", "show", run_id, "-o", "json", check=True).stdout)["status"] == "running"

    resume = subprocess.Popen(
        [str(BIN / "ccops"), "resume", run_id, "--yes", "--output", "json"],
        cwd=ROOT,
        env=ccops_env(fleet),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started.append(resume)
    orphan_gone = second_started = None
    most = 0
    while resume.poll() is None:  # watch: never two Ansibles for this run, the old one gone before the new
        most = max(most, len(ansible_processes(run_dir)))
        if orphan_gone is None and orphan.state() != "alive":
            orphan_gone = time.monotonic()
        if second_started is None and {p.name for p in (run_dir / "artifacts").iterdir()} - killed_with:
            second_started = time.monotonic()
        time.sleep(0.1)
    out, err = resume.communicate()
    data = payload(out)
    assert resume.returncode == 0 and data["status"] == "succeeded", err[-3000:]
    assert f"waiting for Ansible pid {orphan.pid} left by the killed run on {HOST}" in err
    assert most == 1
    assert orphan_gone is not None and second_started is not None and orphan_gone < second_started
    # the resume asks the host again (select-a2); its batch runs again (w1-b1-a2) unless the orphan finished
    # the whole patch, its mark cleared, when the select pass records the host up to date instead
    resumed_with = {p.name for p in (run_dir / "artifacts").iterdir()} - killed_with
    assert resumed_with in ({"select-a2", "w1-b1-a2"}, {"select-a2"}), resumed_with
    record = payload(run_ccops(fleet, "runs", "show", run_id, "-o", "json", check=True).stdout)
    assert record["status"] == "succeeded" and [(h["host"], h["outcome"]) for h in record["hosts"]] == [(HOST, "ok")]
    assert Locks(fleet).holder(run_id) is None and Locks(fleet).leftover_ansible(run_id) == []
    assert pexec(HOST, "dpkg", "--audit").strip() == ""
    assert versions(HOST) != before
