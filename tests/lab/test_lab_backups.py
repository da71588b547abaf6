"""Backups on real hosts: private, checked against the run record, tied to one
machine; a manual rollback that the restore card keeps across a reboot.

The tests run in file order on one freshly built host and build on each other.
"""

import json
import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import BIN, ROOT, ccops_env, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec, reboot, versions
from tests.lab.test_lab_patch import _kill_tree, _wait_for_package_manager

pytestmark = pytest.mark.lab
HOST = "lab-deb12-01"
PROBE_USER = "ccops-probe"
STATE: dict = {}


@pytest.fixture(scope="module")
def fleet(lab_home):
    run_ccops(lab_home, "lab", "down", timeout=600)  # a fresh, unpatched host
    run_ccops(lab_home, "lab", "up", "--hosts", "2", check=True, timeout=3600)
    STATE["original"] = versions(HOST)
    STATE["machine_id"] = pexec(HOST, "cat", "/etc/machine-id").strip()
    yield lab_home
    # the next modules expect fresh, unpatched hosts (pending security updates): give them new ones
    run_ccops(lab_home, "lab", "down", timeout=600)
    run_ccops(lab_home, "lab", "up", "--hosts", "3", timeout=1800)


def _backups(home: Path) -> dict[str, dict]:
    found = payload(run_ccops(home, "backups", "list", HOST, "--output", "json", check=True).stdout)
    return {b["phase"]: b for b in found}


def _rollback(home: Path, backup_id: str) -> subprocess.CompletedProcess:
    return run_ccops(home, "rollback", HOST, "--to", backup_id, "--yes", "--change-id", "CHG-RB", timeout=1200)


def test_a_patch_records_what_changed_from_its_backups(fleet):
    result = run_ccops(
        fleet,
        "patch",
        "--yes",
        "--change-id",
        "CHG-BK1",
        "--limit",
        HOST,
        "--reboot",
        "never",
        "--output",
        "json",
        timeout=1800,
    )
    data = payload(result.stdout)
    assert result.returncode == 0 and data["status"] == "succeeded", result.stderr[-3000:]
    patched = versions(HOST)
    original = STATE["original"]
    changed = data["reports"][HOST]["packages_changed"]
    assert changed["changed"] == {
        n: f"{original[n]} -> {v}" for n, v in patched.items() if n in original and original[n] != v
    }
    assert changed["added"] == {n: v for n, v in patched.items() if n not in original}
    assert changed["removed"] == {n: v for n, v in original.items() if n not in patched}
    assert changed["changed"]  # the fresh host had pending updates
    STATE["patched"] = patched
    STATE["backups"] = _backups(fleet)
    assert {b["recorded"] and not b["differs"] for b in STATE["backups"].values()} == {True}
    assert {b["machine_id"] for b in STATE["backups"].values()} == {STATE["machine_id"]}


def test_backups_are_private(fleet):
    # nothing left on the host once the archives are at the target
    assert pexec(HOST, "find", "/var/backups/ccops", "-type", "f").strip() == ""
    assert pexec(HOST, "stat", "-c", "%a %U", "/var/backups/ccops").strip() == "700 root"
    target = Path(fleet) / "lab" / "backups"
    host_dir = target / HOST
    for path in [host_dir, *host_dir.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert (mode, path.stat().st_uid) == ((0o700 if path.is_dir() else 0o600), os.getuid()), path
    # a local user who can walk up to the backup target (only the backups' own modes stop it) reads nothing
    walk = [p for p in target.parents if p.is_relative_to("/tmp") and p != Path("/tmp")]
    saved = {p: stat.S_IMODE(p.stat().st_mode) for p in [*walk, target]}
    subprocess.run(["useradd", "--no-create-home", PROBE_USER], check=True)
    try:
        for path, mode in saved.items():
            path.chmod(mode | 0o011)  # traverse only
        assert _as_probe("test", "-x", str(target)).returncode == 0  # the walk up is open
        for path in [host_dir, *host_dir.rglob("*")]:
            probe = _as_probe("cat", str(path)) if path.is_file() else _as_probe("ls", str(path))
            assert probe.returncode != 0, f"{PROBE_USER} read {path}"
        assert _as_probe("cat", str(next(host_dir.rglob("archive.tar.gz")))).returncode != 0
    finally:
        for path, mode in saved.items():
            path.chmod(mode)
        subprocess.run(["userdel", PROBE_USER], check=False)


def _as_probe(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [shutil.which("runuser") or "/sbin/runuser", "-u", PROBE_USER, "--", *argv],
        capture_output=True,
        text=True,
        check=False,
    )


def test_exact_hosts_and_ids_only(fleet):
    pattern = run_ccops(fleet, "rollback", "lab-deb1*", "--to", "x", "--yes", "--change-id", "CHG-RB")
    assert pattern.returncode == 1 and "is a pattern" in pattern.stderr and HOST in pattern.stderr
    empty = run_ccops(fleet, "rollback", HOST, "--to", "", "--yes", "--change-id", "CHG-RB")
    assert empty.returncode == 1 and "empty" in empty.stderr
    assert all(b["id"] in empty.stderr for b in STATE["backups"].values())
    ambiguous = run_ccops(
        fleet, "rollback", HOST, "--to", STATE["backups"]["before"]["run_id"], "--yes", "--change-id", "CHG-RB"
    )
    assert ambiguous.returncode == 1 and "ambiguous" in ambiguous.stderr


@pytest.mark.parametrize("tampered", ["archive.tar.gz", "manifest.json"])
def test_a_tampered_backup_is_refused_and_the_host_unchanged(fleet, tampered):
    before = STATE["backups"]["before"]
    path = Path(before["location"]) / tampered
    saved = path.read_bytes()
    if tampered == "manifest.json":  # the forger points the manifest at a forged archive
        forged = {**json.loads(saved), "sha256": "0" * 64}
        path.write_text(json.dumps(forged))
    else:
        path.write_bytes(saved + b"forged")
    try:
        result = _rollback(fleet, before["id"])
    finally:
        path.write_bytes(saved)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tampered" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert versions(HOST) == STATE["patched"]


def test_a_rollback_survives_a_reboot(fleet):
    result = _rollback(fleet, STATE["backups"]["before"]["id"])
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert versions(HOST) == STATE["original"]
    card = pexec(HOST, "/usr/local/sbin/ccops-restore-card", "status")
    assert "enabled" in card and "thawed" not in card
    reboot(HOST)
    assert versions(HOST) == STATE["original"]


def test_another_machines_backup_is_refused(fleet):
    pexec(HOST, "sh", "-c", "cat /proc/sys/kernel/random/uuid | tr -d - > /etc/machine-id")
    try:
        result = _rollback(fleet, STATE["backups"]["after"]["id"])
    finally:
        pexec(HOST, "sh", "-c", f"echo {STATE['machine_id']} > /etc/machine-id")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "another machine" in result.stdout
    assert versions(HOST) == STATE["original"]
    assert "thawed" not in pexec(HOST, "/usr/local/sbin/ccops-restore-card", "status")


def test_a_resumed_patch_records_everything_the_interrupted_one_changed(fleet):
    proc = subprocess.Popen(
        [
            str(BIN / "ccops"),
            "patch",
            "--yes",
            "--change-id",
            "CHG-BK2",
            "--limit",
            HOST,
            "--reboot",
            "never",
            "--output",
            "json",
        ],
        cwd=ROOT,
        env=ccops_env(fleet),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while (
        subprocess.run(
            ["podman", "exec", f"ccops-lab-{HOST}", "test", "-e", "/var/lib/ccops/patch-in-progress.json"], check=False
        ).returncode
        != 0
    ):
        assert time.monotonic() < deadline and proc.poll() is None, "the patch never marked the host"
        time.sleep(0.5)
    _kill_tree(proc.pid)  # the controller is lost after the before-backup, before or during the install
    proc.wait()
    _wait_for_package_manager(HOST)
    run_id = payload(run_ccops(fleet, "runs", "list", "--output", "json", check=True).stdout)[0]["run_id"]
    result = run_ccops(fleet, "resume", run_id, "--yes", "--output", "json", timeout=1800)
    data = payload(result.stdout)
    assert result.returncode == 0 and data["status"] == "succeeded", result.stderr[-3000:]
    original, patched = STATE["original"], versions(HOST)
    changed = data["reports"][HOST]["packages_changed"]
    assert changed["changed"] == {
        n: f"{original[n]} -> {v}" for n, v in patched.items() if n in original and original[n] != v
    }
    assert changed["changed"] and changed["added"] == {n: v for n, v in patched.items() if n not in original}
