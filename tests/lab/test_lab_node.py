"""Execution nodes on the lab: a lab host prepared as its site's node runs the site's batches.

lab-deb12-01 is the node of site "lab" and runs inspect and patch for the other lab hosts
over the lab network (the jump host's key is forwarded for each job, never copied); the
records match a direct run's; a controller killed mid-batch leaves no secret on the node
and resume finishes with one execution per host; a node on another ansible-core is refused
before any host is touched; two sites, each with its node, run side by side.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from ccops.node.agent import agents_root
from ccops.processes import Process
from tests.conftest import BIN, ROOT, ccops_env, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec

pytestmark = pytest.mark.lab
NODE, NODE_B = "lab-deb12-01", "lab-deb13-01"
TARGETS = ["lab-deb11-01", "lab-deb13-01"]
RELEASE = "/home/ccops/.local/lib/ccops-node/current/site/ansible/release.py"


def _site_files(lab_inventory: Path, folder: Path, sites: dict[str, dict]) -> Path:
    """The lab inventory rewritten as ``sites`` (code -> {node, hosts}) over the same lab hosts."""
    base = yaml.safe_load((lab_inventory / "sites" / "lab.yml").read_text())
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "sites").mkdir(parents=True)
    (folder / "ccops.yml").write_text("plugin: ccops\nsites: sites\n")
    for code, spec in sites.items():
        site = json.loads(json.dumps(base))
        site["site"]["code"] = code
        site["site"]["node"] = spec["node"]
        groups = [g for g in site["groups"] if g["connection"] == "lab-ssh"]
        for group in groups:
            group["hosts"] = [h for h in group["hosts"] if h in spec["hosts"]]
        site["groups"] = [g for g in groups if g["hosts"]]
        site["hosts"] = {h: v for h, v in site["hosts"].items() if h in spec["hosts"]}
        (folder / "sites" / f"{code}.yml").write_text(yaml.safe_dump(site, sort_keys=False))
    return folder


@pytest.fixture(scope="module")
def lab(lab_home, tmp_path_factory):
    run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True, timeout=1800)
    folder = tmp_path_factory.mktemp("node-inv")
    lab_inventory = ROOT / "inventory" / "lab"
    one = _site_files(lab_inventory, folder / "one", {"lab": {"node": NODE, "hosts": ["lab-deb11-01", *TARGETS, NODE]}})
    started = time.monotonic()
    run_ccops(lab_home, "node", "prepare", "-i", str(one), "--site", "lab", check=True, timeout=900)
    prepared = time.monotonic() - started
    yield {"home": lab_home, "one": one, "folder": folder, "lab_inventory": lab_inventory, "prepare_s": prepared}
    # the patch test changed lab-deb11-01: later modules need it fresh and unpatched
    subprocess.run(["podman", "rm", "-f", "-t", "0", "ccops-lab-lab-deb11-01"], capture_output=True, check=False)
    run_ccops(lab_home, "lab", "up", "--hosts", "3", timeout=1800)


def _run_json(home: Path, *args: str, env: dict | None = None) -> tuple[int, dict]:
    proc = run_ccops(home, *args, "--output", "json", timeout=1200, env=env)
    try:
        return proc.returncode, payload(proc.stdout)
    except ValueError:
        raise AssertionError(
            f"ccops {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        ) from None


def _record(home: Path, run_id: str) -> dict:
    proc = run_ccops(home, "runs", "show", run_id, "--output", "json", check=True)
    return payload(proc.stdout)


def _limit(hosts: list[str]) -> list[str]:
    return [arg for h in hosts for arg in ("--limit", h)]


def _node_jobs(host: str) -> str:
    return pexec(host, "sh", "-c", "ls -A /dev/shm/ccops-node-*/ 2>/dev/null || true").strip()


def _secret_on(host: str, secret: str) -> str:
    """Files on the host holding the secret, anywhere a job could have written (grep exits 1: none)."""
    places = "/dev/shm /tmp /var/tmp /home/ccops /run/user"
    return pexec(host, "sh", "-c", f'grep -rlsF -e "$1" {places} || true', "grep", secret).strip()


def test_a_prepared_node_runs_inspect_for_the_other_hosts_like_a_direct_run(lab):
    home, inv = lab["home"], lab["one"]
    code, direct = _run_json(
        home, "inspect", "-i", str(inv), *_limit(TARGETS), "--change-id", "CHG-NODE-D",
        env={**ccops_env(home), "CCOPS_NODES": "off"},
    )  # fmt: skip
    assert code == 0, direct
    started = time.monotonic()
    code, through = _run_json(home, "inspect", "-i", str(inv), *_limit(TARGETS), "--change-id", "CHG-NODE-1")
    seconds = time.monotonic() - started
    assert code == 0, through
    a, b = _record(home, direct["run_id"]), _record(home, through["run_id"])
    shape = lambda rec: {h["host"]: (h["outcome"], sorted(h["report"]), h["report"]["os"]) for h in rec["hosts"]}  # noqa: E731
    assert shape(a) == shape(b) and set(shape(b)) == set(TARGETS)
    # the events came back into the run's artifacts as for a direct run; the node kept nothing
    events = list((home / "runs" / through["run_id"] / "artifacts").glob("w1-b1-a1/job_events/*.json"))
    assert any(json.loads(e.read_text())["event"] == "playbook_on_stats" for e in events)
    assert _node_jobs(NODE) == ""
    print(f"prepare {lab['prepare_s']:.1f}s; inspect of 2 hosts through the node {seconds:.1f}s")


def test_a_prepared_node_patches_the_other_hosts_with_their_backups_recorded(lab):
    home, inv = lab["home"], lab["one"]
    code, result = _run_json(
        home, "patch", "-i", str(inv), "--limit", "lab-deb11-01", "--change-id", "CHG-NODE-2", "--yes"
    )
    assert code == 0, result
    (host,) = _record(home, result["run_id"])["hosts"]
    report = host["report"]
    # a fresh lab host has pending updates from its release's -updates and -security suites
    assert host["outcome"] == "ok" and report["outcome"] == "patched", host
    archive = f"{home / 'lab' / 'backups'}/lab-deb11-01/{report['backup_before']['id']}/archive.tar.gz"
    # the site's backup target is the node's folder: that is where the node's Ansible fetched it
    pexec(NODE, "test", "-s", archive)
    assert report["backup_before"]["sha256"] and report["backup_after"]["sha256"]
    assert _node_jobs(NODE) == ""


def test_a_controller_killed_mid_batch_leaves_no_secret_and_resume_runs_nothing_twice(lab):
    home, inv = lab["home"], lab["one"]
    secret = (home / "lab" / "become_password").read_text().strip()
    runs = home / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()
    argv = [str(BIN / "ccops"), "inspect", "-i", str(inv), *_limit(TARGETS), "--change-id", "CHG-NODE-3", "-o", "json"]
    _hold_apt_get(TARGETS)
    ccops = subprocess.Popen(argv, cwd=ROOT, env=ccops_env(home), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)  # fmt: skip
    try:
        # the marker: on both hosts the asset module, run through the node, waits in apt-get: the node's
        # connections to them are up and the batch is under way (its one task cannot end before the release)
        deadline = time.monotonic() + 180
        run_dir = None
        while time.monotonic() < deadline:
            new = [d for d in runs.iterdir() if d not in before] if runs.exists() else []
            run_dir = new[0] if new else None
            if run_dir and all(pexec(h, "sh", "-c", f"test -e {HELD} && echo held || true").strip() for h in TARGETS):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("no host answered through the node")
        # the job's private ssh-agent holds the jump host's key now (ccops.node.agent records it)
        agent_record = json.loads((agents_root() / run_dir.name / "w1-b1-a1.json").read_text())
        assert Process(**agent_record["agent"]).state() == "alive"
        os.kill(ccops.pid, signal.SIGKILL)
        ccops.wait()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(ccops.pid, signal.SIGKILL)
        _release_apt_get(TARGETS)
    _assert_agent_died_with_the_controller(agent_record)
    assert (run_dir / "node-jobs").is_dir() and any((run_dir / "node-jobs").iterdir())
    # the node's job goes on to its end; then nothing of it but its journal (no secret) is left
    deadline = time.monotonic() + 180
    listing = "ls /dev/shm/ccops-node-*/*/ 2>/dev/null || true"
    while time.monotonic() < deadline and "done.json" not in pexec(NODE, "sh", "-c", listing):
        time.sleep(1)
    assert "done.json" in pexec(NODE, "sh", "-c", listing), "the node's job did not end"
    assert "pdd" not in pexec(NODE, "sh", "-c", listing), "the job's private data is left"
    assert _secret_on(NODE, secret) == ""
    leftovers = pexec(NODE, "sh", "-c", "pgrep -u ccops -f 'ansible|ssh -o|ansible_runner' || true").strip()
    assert leftovers == "", leftovers
    code, resumed = _run_json(home, "resume", run_dir.name, "--yes")
    assert code == 0, resumed
    record = _record(home, run_dir.name)
    assert record["status"] == "succeeded"
    assert sorted(h["host"] for h in record["hosts"]) == sorted(TARGETS)
    assert all(h["outcome"] == "ok" for h in record["hosts"]), record["hosts"]
    # one execution per host: the killed batch's, collected from the node; resume started none
    attempts = sorted(p.name for p in (run_dir / "artifacts").iterdir())
    assert attempts == ["w1-b1-a1", "w1-b1-a1-recovered"], attempts
    assert _node_jobs(NODE) == ""


HELD, RELEASE_MARK, WRAPPER = "/run/ccops-test-apt-held", "/run/ccops-test-apt-release", "/usr/local/sbin/apt-get"
APT_GATE = f"""#!/bin/sh
# a lab test's gate: apt-get says it was reached, then waits for the test's release
touch {HELD}
while [ ! -e {RELEASE_MARK} ]; do sleep 0.2; done
exec /usr/bin/apt-get "$@"
"""


def _hold_apt_get(hosts: list[str]) -> None:
    """apt-get on these hosts (first on root's PATH) waits at a gate the test opens."""
    for host in hosts:
        pexec(host, "rm", "-f", HELD, RELEASE_MARK)
        pexec(host, "mkdir", "-p", "/usr/local/sbin")
        pexec(host, "tee", WRAPPER, stdin=APT_GATE)
        pexec(host, "chmod", "0755", WRAPPER)


def _release_apt_get(hosts: list[str]) -> None:
    for host in hosts:
        pexec(host, "touch", RELEASE_MARK, check=False)
        pexec(host, "rm", "-f", WRAPPER, check=False)


def _assert_agent_died_with_the_controller(record: dict) -> None:
    """The key dies with the controller: the agent's keeper stops it and removes its socket at once."""
    with contextlib.suppress(ProcessLookupError):  # already gone
        keeper = os.pidfd_open(record["keeper"]["pid"])
        try:
            assert select.select([keeper], [], [], 30)[0], "the job agent's keeper outlived the controller"
        finally:
            os.close(keeper)
    assert Process(**record["agent"]).state() != "alive", "the job's ssh-agent outlived the killed controller"
    assert not Path(record["socket"]).exists()


def test_a_node_on_another_ansible_core_is_refused_before_any_host_is_touched(lab):
    home, inv = lab["home"], lab["one"]
    original = pexec(NODE, "cat", RELEASE)
    as_node_user = ("runuser", "-u", "ccops", "--")  # the install is the node login's, 0600
    pexec(NODE, *as_node_user, "sed", "-i", "s/^__version__ = .*/__version__ = '2.18.0'/", RELEASE)
    try:
        runs = home / "runs"
        before = set(runs.iterdir())
        proc = run_ccops(home, "inspect", "-i", str(inv), *_limit(TARGETS), "--change-id", "CHG-NODE-4")
        assert proc.returncode == 4, proc.stderr
        assert "refused before any host was touched" in proc.stderr and "ansible-core 2.18.0" in proc.stderr
        (run_dir,) = set(runs.iterdir()) - before
        assert not (run_dir / "artifacts").exists() and not (run_dir / "node-jobs").exists()
        assert _record(home, run_dir.name)["hosts"] == []
    finally:
        pexec(NODE, *as_node_user, "sh", "-c", 'cat > "$1"', "sh", RELEASE, stdin=original)
    assert run_ccops(home, "node", "check", "-i", str(inv), "--site", "lab").returncode == 0


def test_two_sites_each_with_its_node_run_side_by_side(lab):
    home = lab["home"]
    inv = _site_files(
        lab["lab_inventory"], lab["folder"] / "two",
        {"north": {"node": NODE, "hosts": ["lab-deb11-01", NODE]}, "south": {"node": NODE_B, "hosts": [NODE_B]}},
    )  # fmt: skip
    run_ccops(home, "node", "prepare", "-i", str(inv), "--site", "south", check=True, timeout=900)
    code, result = _run_json(home, "inspect", "-i", str(inv), "--change-id", "CHG-NODE-5")
    assert code == 0, result
    spans = {}
    for batch in (home / "runs" / result["run_id"] / "artifacts").iterdir():
        stamps = sorted(json.loads(e.read_text())["created"] for e in batch.glob("job_events/*.json"))
        hosts = {json.loads(e.read_text()).get("event_data", {}).get("host") for e in batch.glob("job_events/*.json")}
        spans["north" if "lab-deb11-01" in hosts else "south"] = (stamps[0], stamps[-1])
    (n0, n1), (s0, s1) = spans["north"], spans["south"]
    assert n0 < s1 and s0 < n1, f"the sites ran one after the other: {spans}"
    assert {h["host"] for h in _record(home, result["run_id"])["hosts"]} == {"lab-deb11-01", NODE, NODE_B}
