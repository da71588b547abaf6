"""Patching on six real hosts (Debian 11, 12, 13): waves, verified backups,
rollback on a failed health check, halt and resume, a killed controller,
the restore card, idempotence, busy seats and rollback on demand.

The tests run in file order and build on each other, like a night's work.
"""

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import BIN, ROOT, ccops_env, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec, reboot, versions

pytestmark = pytest.mark.lab
HOSTS = ["lab-deb11-01", "lab-deb12-01", "lab-deb13-01", "lab-deb11-02", "lab-deb12-02", "lab-deb13-02"]
ORIGINAL: dict[str, dict[str, str]] = {}  # package versions as the lab built them
STATE: dict[str, str] = {}


@pytest.fixture(scope="module")
def fleet(lab_home):
    run_ccops(lab_home, "lab", "up", "--hosts", "6", check=True, timeout=3600)
    for host in HOSTS:
        ORIGINAL[host] = versions(host)
    yield lab_home
    run_ccops(lab_home, "lab", "up", "--hosts", "3", timeout=1800)


def patch(home: Path, *args: str, timeout: float = 1800):
    result = run_ccops(home, "patch", "--yes", "--output", "json", *args, timeout=timeout)
    assert result.stdout, result.stderr[-3000:]
    return result.returncode, payload(result.stdout)


def pending(home: Path) -> dict[str, dict]:
    data = payload(run_ccops(home, "inspect", "--output", "json", check=True).stdout)
    return {h: r["updates"] for h, r in data["reports"].items()}


def backups(home: Path, host: str) -> list[dict]:
    return payload(run_ccops(home, "backups", "list", host, "--output", "json", check=True).stdout)


def test_plan_shows_the_waves_before_anything_runs(fleet):
    plan = payload(run_ccops(fleet, "plan", "patch", "--output", "json", check=True).stdout)
    assert [w["name"] for w in plan["waves"]] == ["canary", "wave 1 (50%)", "wave 2 (100%)"]
    assert sorted(h for w in plan["waves"] for b in w["batches"] for h in b["hosts"]) == sorted(HOSTS)
    assert all(len(b["hosts"]) <= 2 for w in plan["waves"] for b in w["batches"])
    excluded = {e["reason"]: e["hosts"] for e in plan["excluded"]}
    assert excluded["lifecycle planned"] == ["lab-win11-01", "lab-win11-02", "lab-w22-01"]
    assert {u["security"] > 0 for u in pending(fleet).values()} == {True}


def test_a_patch_without_restore_card_rebaseline_is_gone_after_a_reboot(fleet):
    host = "lab-deb13-02"
    pexec(host, "apt-get", "update", "-qq")
    pexec(host, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-y", "-qq", "upgrade")
    assert versions(host) != ORIGINAL[host]  # patched by hand, as a technician would
    reboot(host)
    assert versions(host) == ORIGINAL[host]  # the restore card put the old packages back


def test_killing_the_controller_leaves_no_unbacked_patch_and_no_lock(fleet):
    env = {**ccops_env(fleet), "CCOPS_OPERATOR": "night-shift"}
    proc = subprocess.Popen(
        [
            str(BIN / "ccops"),
            "patch",
            "--yes",
            "--change-id",
            "CHG-KILL",
            "--limit",
            "lab-deb12-*",
            "--batch-size",
            "1",
            "--output",
            "json",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    target = Path(fleet) / "lab" / "backups" / "lab-deb12-01"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list(target.glob("*-before-*/manifest.json")):
        time.sleep(0.5)
    time.sleep(3)  # well into the package installation
    _kill_tree(proc.pid)  # the whole controller: ccops, ansible-playbook (its own session), ssh
    proc.wait()
    run = payload(run_ccops(fleet, "runs", "list", "--output", "json", check=True).stdout)[0]
    assert run["status"] == "running" and run["change_id"] == "CHG-KILL"
    STATE["killed"] = run["run_id"]
    for host in ("lab-deb12-01", "lab-deb12-02"):
        _wait_for_package_manager(host)
        changed = _changed(host)
        if changed:
            verified = [b for b in backups(fleet, host) if b["phase"] == "before" and b["verified"]]
            assert verified, f"{host} changed without a verified before-backup: {changed}"
    code, data = _resume(fleet, STATE["killed"])
    assert code == 0 and data["status"] == "succeeded", data
    for host in ("lab-deb12-01", "lab-deb12-02"):
        assert pexec(host, "dpkg", "--audit").strip() == ""
        assert _changed(host)


def _changed(host: str) -> dict[str, tuple[str, str]]:
    now = versions(host)
    return {name: (old, now[name]) for name, old in ORIGINAL[host].items() if now.get(name, old) != old}


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and every descendant, whatever session or process group it is in."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    for member in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)


def _wait_for_package_manager(host: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pexec(host, "pgrep", "-x", "apt-get|dpkg|apt", check=False).strip():
            return
        time.sleep(2)
    raise AssertionError(f"{host}: a package manager is still running after {timeout}s")


def _resume(home: Path, run_id: str):
    result = run_ccops(home, "resume", run_id, "--yes", "--output", "json", timeout=1800)
    return result.returncode, payload(result.stdout)


def test_a_failed_health_check_rolls_back_and_halts_the_run(fleet):
    canary = "lab-deb11-01"
    pexec(canary, "sh", "-c", "echo broken by test > /var/lib/ccops-lab/fail-health")
    app_conf = pexec(canary, "cat", "/etc/ccops-lab/app.conf")
    code, data = patch(fleet, "--change-id", "CHG-2001")
    outcomes = {h["host"]: h for h in data["hosts"]}
    assert code == 3 and data["status"] == "halted", data["message"]
    assert "canary" in data["message"] and "max_fail_percentage" in data["message"]
    # nothing after the canary ran; hosts already patched (the killed run's, resumed) were recorded
    # up to date by the select pass before any wave, and ran no batch
    ran = [h for h in outcomes if data["reports"].get(h, {}).get("outcome") != "up_to_date"]
    assert ran == [canary], outcomes
    assert {h for h in outcomes if h != canary} <= {"lab-deb12-01", "lab-deb12-02"}
    assert outcomes[canary]["outcome"] == "failed"
    assert "health check failed" in outcomes[canary]["message"] and "rolled back" in outcomes[canary]["message"]
    assert versions(canary) == ORIGINAL[canary]  # exact before-state
    assert pexec(canary, "cat", "/etc/ccops-lab/app.conf") == app_conf
    report = data["reports"][canary]
    assert report["outcome"] == "rolled_back" and report["rollback"]["packages_returned"]
    STATE["halted"] = data["run_id"]


def test_resume_after_fixing_completes_the_run(fleet):
    pexec("lab-deb11-01", "rm", "-f", "/var/lib/ccops-lab/fail-health")
    code, data = _resume(fleet, STATE["halted"])
    assert code == 0 and data["status"] == "succeeded", data["message"]
    record = payload(run_ccops(fleet, "runs", "show", STATE["halted"], "--output", "json", check=True).stdout)
    assert sorted(h["host"] for h in record["hosts"]) == sorted(HOSTS)
    assert {h["outcome"] for h in record["hosts"]} == {"ok"}
    for host, updates in pending(fleet).items():
        assert updates["pending"] == 0 and updates["security"] == 0, host
    for host in HOSTS:
        verified = [b for b in backups(fleet, host) if b["verified"]]
        phases = {b["phase"] for b in verified if b["run_id"] in (STATE["halted"], STATE["killed"])}
        assert phases == {"before", "after"}, host
        for backup in verified:
            archive = Path(backup["location"]) / "archive.tar.gz"
            digest = subprocess.run(["sha256sum", str(archive)], capture_output=True, text=True, check=True)
            assert digest.stdout.split()[0] == backup["sha256"]


def test_with_the_rebaseline_the_patch_survives_a_reboot(fleet):
    host = "lab-deb13-02"
    patched = versions(host)
    assert patched != ORIGINAL[host]
    assert "enabled" in pexec(host, "/usr/local/sbin/ccops-restore-card", "status")
    reboot(host)
    assert versions(host) == patched


def _tasks_run(home: Path, run_id: str) -> set[str]:
    """The tasks that ran on a host in a run, from its Ansible events."""
    names = set()
    for path in (home / "runs" / run_id).rglob("job_events/*.json"):
        event = json.loads(path.read_text())
        if event.get("event") in ("runner_on_ok", "runner_on_failed"):
            names.add(event["event_data"].get("task", ""))
    return names


def test_a_second_patch_changes_nothing(fleet):
    taken = {h: len(backups(fleet, h)) for h in HOSTS}
    on_target = {h: _on_target(fleet, h) for h in HOSTS}
    code, data = patch(fleet, "--change-id", "CHG-2002")
    assert code == 0 and data["status"] == "succeeded"
    assert {(h["outcome"], h["changed"], h["message"]) for h in data["hosts"]} == {("ok", 0, "up to date")}
    # recognised in one step, before any pre-check or backup; the record says why
    assert {h: len(backups(fleet, h)) for h in HOSTS} == taken
    assert {r["outcome"] for r in data["reports"].values()} == {"up_to_date"}
    assert all(r["reason"].startswith("nothing to install") for r in data["reports"].values()), data["reports"]
    ran = _tasks_run(fleet, data["run_id"])
    assert "Recognise a host with nothing to install" in ran
    assert not ran & {"Wait for any other package manager run to end", "List pending updates"}
    # one select play over the six hosts before any wave, and no batch at all; the backup target holds
    # exactly what it held before
    plays = sorted(p.name for p in (Path(fleet) / "runs" / data["run_id"] / "artifacts").iterdir())
    assert plays == ["select-a1"], plays
    assert {h: _on_target(fleet, h) for h in HOSTS} == on_target


def _on_target(home: Path, host: str) -> list[str]:
    """What the lab's backup target holds for a host."""
    folder = Path(home) / "lab" / "backups" / host
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_an_inventory_edited_mid_run_stops_it_before_the_next_batch(fleet):
    """The plan approved is the plan that runs: an edit while it runs is named, and nothing more runs."""
    site = ROOT / "inventory" / "lab" / "sites" / "lab.yml"
    original = site.read_text()
    runs = fleet / "runs"
    before = {p.name for p in runs.iterdir()} if runs.is_dir() else set()
    # both hosts are patched by now: the select pass would record them up to date and no batch would
    # run. An interrupted patch's mark gives each work left; the canary's busy seat refuses it (not a
    # failure, so the run goes on to its next batch, where the edit stops it)
    leftovers = ["/run/ccops-lab-seat-busy", "/var/lib/ccops/patch-in-progress.json"]
    for host in ("lab-deb12-01", "lab-deb12-02"):
        pexec(host, "sh", "-c", "mkdir -p /var/lib/ccops && echo '{}' > /var/lib/ccops/patch-in-progress.json")
    pexec("lab-deb12-01", "touch", "/run/ccops-lab-seat-busy")
    proc = subprocess.Popen(
        [
            str(BIN / "ccops"),
            "patch",
            "--yes",
            "--output",
            "json",
            "--change-id",
            "CHG-2003",
            "--batch-size",
            "1",
            "--limit",
            "lab-deb12-0*",
        ],
        cwd=ROOT,
        env=ccops_env(fleet),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        # the marker: the canary batch's Ansible has started (its artifacts folder exists)
        while not any(
            p.name not in before and (p / "artifacts" / "w1-b1-a1").exists()
            for p in (runs.iterdir() if runs.is_dir() else [])
        ):
            assert proc.poll() is None and time.monotonic() < deadline, "the canary batch never started"
            time.sleep(0.2)
        site.write_text(original + "# edited while the run was going\n")
        out, err = proc.communicate(timeout=900)
        data = payload(out)
        assert proc.returncode == 3 and data["status"] == "halted", err[-2000:]
        assert "sites/lab.yml changed" in data["message"] and "--keep-plan" in data["message"]
        assert [(h["host"], h["outcome"]) for h in data["hosts"]] == [("lab-deb12-01", "refused")]  # the canary
        refused = run_ccops(fleet, "resume", data["run_id"], "--yes", "--output", "json")
        assert refused.returncode == 5 and "sites/lab.yml changed" in refused.stderr
    finally:
        site.write_text(original)
        for host in ("lab-deb12-01", "lab-deb12-02"):
            pexec(host, "rm", "-f", *leftovers)
    code, resumed = _resume(fleet, data["run_id"])
    # nothing left to do on either: the resumed select pass records both, no batch runs
    assert code == 0 and {h["host"] for h in resumed["hosts"]} == {"lab-deb12-01", "lab-deb12-02"}
    assert {r["outcome"] for r in resumed["reports"].values()} == {"up_to_date"}


def test_a_busy_seat_is_left_alone_with_its_reason(fleet):
    # the seat has work left (an interrupted patch's mark), so its pre-checks run: an up-to-date
    # seat ends in the patch's first step, before any pre-check, busy or not
    pexec("lab-deb12-02", "touch", "/run/ccops-lab-seat-busy")
    pexec("lab-deb12-02", "sh", "-c", "mkdir -p /var/lib/ccops && echo '{}' > /var/lib/ccops/patch-in-progress.json")
    try:
        code, data = patch(fleet, "--change-id", "CHG-2003", "--limit", "lab-deb12-02")
    finally:
        pexec("lab-deb12-02", "rm", "-f", "/run/ccops-lab-seat-busy", "/var/lib/ccops/patch-in-progress.json")
    host = data["hosts"][0]
    # the only host was refused: nothing was done, and the run says so (exit 6), not "succeeded"
    assert code == 6 and data["status"] == "nothing_done"
    assert host["outcome"] == "refused" and host["message"].startswith("seat busy")


def test_rollback_on_demand_returns_a_host_to_a_chosen_backup(fleet):
    host = "lab-deb11-02"
    before = next(b for b in backups(fleet, host) if b["phase"] == "before" and b["run_id"] == STATE["halted"])
    result = run_ccops(fleet, "rollback", host, "--to", before["id"], "--yes", "--change-id", "CHG-2004", timeout=1200)
    assert result.returncode == 0, result.stdout + result.stderr
    assert versions(host) == ORIGINAL[host]
