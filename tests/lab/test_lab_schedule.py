"""A lab host plays the jump host: ccops installed on it, its systemd timer fires a real inspect.

lab-deb12-01 gets the ansible-core, ansible-runner and collections `ccops node prepare`
installs on an execution node, plus ccops itself (a wheel of this checkout) in a venv;
`ccops schedule install` writes and enables the units there; the timer fires at the next
minutes' mark and inspects the other lab hosts over the lab network. The record on that
host names the schedule and its standing change.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec

pytestmark = pytest.mark.lab
JUMP, TARGETS = "lab-deb12-01", ["lab-deb11-01", "lab-deb13-01"]
VENV, DIST, INVENTORY, STATE = "/opt/ccops", "/opt/ccops-dist", "/srv/ccops/inventory", "/var/lib/ccops"
NODE_SITE = "/home/ccops/.local/lib/ccops-node/current/site"
SECRETS = "/etc/ccops-jump"
NAME, CHANGE = "lab-inspect", "STD-LAB-INSPECT"


def _site(lab_inventory: Path) -> dict:
    return yaml.safe_load((lab_inventory / "sites" / "lab.yml").read_text())


def _only(site: dict, hosts: list[str]) -> dict:
    site = json.loads(json.dumps(site))
    groups = [g for g in site["groups"] if g["connection"] == "lab-ssh"]
    for group in groups:
        group["hosts"] = [h for h in group["hosts"] if h in hosts]
    site["groups"] = [g for g in groups if g["hosts"]]
    site["hosts"] = {h: v for h, v in site["hosts"].items() if h in hosts}
    return site


def _write(folder: Path, site: dict, schedules: str | None = None) -> Path:
    (folder / "sites").mkdir(parents=True)
    (folder / "ccops.yml").write_text("plugin: ccops\nsites: sites\n")
    (folder / "sites" / "lab.yml").write_text(yaml.safe_dump(site, sort_keys=False))
    if schedules is not None:
        (folder / "schedules.yml").write_text(schedules)
    return folder


def _podman(*argv: str) -> None:
    subprocess.run(["podman", *argv], check=True, capture_output=True, timeout=300)


def _jump_ccops(*args: str, check: bool = True) -> str:
    return pexec(JUMP, "env", f"CCOPS_HOME={STATE}", f"{VENV}/bin/ccops", *args, check=check)


@pytest.fixture(scope="module")
def jump(lab_home, tmp_path_factory):
    run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True, timeout=1800)
    lab_inventory = ROOT / "inventory" / "lab"
    base = _site(lab_inventory)
    work = tmp_path_factory.mktemp("jump")
    # 1. the execution node's install, as ccops node prepare makes it
    node = _only(base, [*TARGETS, JUMP])  # the site as it is; its node is the jump-host-to-be
    node["site"]["node"] = JUMP
    run_ccops(
        lab_home, "node", "prepare", "-i", str(_write(work / "node", node)), "--site", "lab", check=True, timeout=900
    )
    # 2. ccops itself in a venv that sees the node's packages; ansible's commands in its bin
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(dist), str(ROOT)], check=True, timeout=600)
    subprocess.run(
        [*pip, "download", "--no-deps", "--only-binary=:all:", "-d", str(dist), f"click=={version('click')}"],
        check=True,
        timeout=300,
    )
    wheels = next((lab_home / "node-cache" / "wheels").glob("cp311-*"))
    pexec(JUMP, "mkdir", "-p", DIST, SECRETS, "/usr/share/zoneinfo", str(Path(INVENTORY).parent))
    _podman("cp", f"{dist}/.", f"ccops-lab-{JUMP}:{DIST}")
    _podman("cp", f"{wheels}/.", f"ccops-lab-{JUMP}:{DIST}")
    _podman("cp", "/usr/share/zoneinfo/UTC", f"ccops-lab-{JUMP}:/usr/share/zoneinfo/UTC")  # the image has no tzdata
    pexec(JUMP, "python3", "-m", "venv", "--without-pip", VENV)
    pexec(JUMP, "tee", f"{VENV}/lib/python3.11/site-packages/ccops-node.pth", stdin=f"{NODE_SITE}\n")
    wanted = [f"ansible-core=={version('ansible-core')}", f"ansible-runner=={version('ansible-runner')}"]
    local = [f"{DIST}/{w.name}" for w in dist.glob("*.whl")]
    # pip from its wheel, as the node's install runs it; --ignore-installed: the node's copies are on the path,
    # and ansible's commands (ansible-playbook) must be in the venv's bin, next to ccops
    pip_wheel = next(wheels.glob("pip-*.whl")).name
    install = ["install", "--quiet", "--no-deps", "--no-index", "--ignore-installed", "--find-links", DIST]
    pexec(JUMP, f"{VENV}/bin/python", f"{DIST}/{pip_wheel}/pip", *install, *wanted, *local)
    # 3. the site's inventory as the jump host reads it: the lab key and become password copied in
    connection = base["connections"]["lab-ssh"]
    for key in ("key_file", "known_hosts"):
        _podman("cp", connection[key], f"ccops-lab-{JUMP}:{SECRETS}/{Path(connection[key]).name}")
        connection[key] = f"{SECRETS}/{Path(connection[key]).name}"
    become = connection["become_password"]["file"]
    _podman("cp", become, f"ccops-lab-{JUMP}:{SECRETS}/become_password")
    connection["become_password"]["file"] = f"{SECRETS}/become_password"
    pexec(JUMP, "chmod", "-R", "go-rwx", SECRETS)
    site = _only(base, TARGETS)
    site["site"]["backup_target"]["path"] = "/var/lib/ccops-backups"
    at = datetime.now(UTC) + timedelta(minutes=3)  # site time is UTC in the lab; minutes are cut, so 2-3 min ahead
    schedules = f'schedules:\n  - {{name: {NAME}, site: lab, run: inspect, at: "{at:%H:%M}", change_id: {CHANGE}}}\n'
    folder = _write(work / "jump", site, schedules)
    _podman("cp", str(folder), f"ccops-lab-{JUMP}:{INVENTORY}")
    yield {"at": at}
    _jump_ccops("schedule", "remove", check=False)
    pexec(JUMP, "rm", "-rf", VENV, DIST, SECRETS, INVENTORY, STATE, check=False)


def test_the_jump_hosts_timer_fires_a_real_inspect_recorded_as_standing(jump):
    installed = _jump_ccops("schedule", "install", "-i", INVENTORY)
    assert f"/etc/systemd/system/ccops-schedule-{NAME}.timer" in installed
    assert pexec(JUMP, "systemctl", "is-enabled", f"ccops-schedule-{NAME}.timer").strip() == "enabled"
    deadline = time.monotonic() + 420
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = payload(_jump_ccops("runs", "list", "-o", "json"))
        if runs and runs[0]["status"] != "running":
            break
        time.sleep(5)
    assert len(runs) == 1, runs
    # the timer fired it, not a person: systemd says when it last triggered
    triggered = pexec(JUMP, "systemctl", "show", "-p", "LastTriggerUSec", "--value", f"ccops-schedule-{NAME}.timer")
    assert triggered.strip() not in ("", "n/a"), triggered
    record = payload(_jump_ccops("runs", "show", runs[0]["run_id"], "-o", "json"))
    journal = pexec(JUMP, "journalctl", "--no-pager", "-n", "40", "-u", f"ccops-schedule-{NAME}.service", check=False)
    assert (record["verb"], record["status"], record["change_id"]) == ("inspect", "succeeded", CHANGE), (
        record["message"],
        journal,
    )
    assert sorted(h["host"] for h in record["hosts"]) == TARGETS
    assert {h["outcome"] for h in record["hosts"]} == {"ok"}
    assert record["request"]["schedule"]["name"] == NAME and record["request"]["schedule"]["standing"] is True
    shown = _jump_ccops("runs", "show", runs[0]["run_id"])
    assert f"schedule         {NAME}, unattended under standing change {CHANGE}" in shown
