"""ccops comply on real hosts: a firewall allow-list built from the inventory, and
drift (USB block, local administrators, revoked accounts, services) found and repaired.

lab-deb11-01 and lab-deb12-01 are managed; lab-deb13-01 is left out of the test's
inventory: the unknown terminal. Tests run in file order and build on each other;
the module recreates the lab at its end, so later modules get fresh hosts.
"""

import json
import subprocess
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec, reboot

pytestmark = pytest.mark.lab
MANAGED = ["lab-deb11-01", "lab-deb12-01"]
OUTSIDER = "lab-deb13-01"
DRIFTED = "lab-deb12-01"
GATEWAY = "10.213.0.1"  # this machine on the lab network: where ccops connects from
STATE: dict = {}


def _site(lab_site: dict, hosts: list[str]) -> dict:
    site = json.loads(json.dumps(lab_site))
    for group in site["groups"]:
        if isinstance(group["hosts"], list):
            group["hosts"] = [h for h in group["hosts"] if h in hosts]
    site["groups"] = [g for g in site["groups"] if g["hosts"]]
    site["hosts"] = {h: v for h, v in site["hosts"].items() if h in hosts}
    site["site"]["management"] = [GATEWAY]
    site["policies"] = [
        {
            "usb_storage": "blocked",
            "services": ["cron"],
            "ssh": {"permit_root_login": "no", "password_authentication": False},
            "firewall": {"allow": [{"ports": [22], "from": ["management", "site"]}], "deny": ["198.51.100.0/24"]},
            "screen_lock": {"idle_minutes": 10},
        }
    ]
    site["accounts"] = [
        {"name": "lab-agent", "comment": "Lab agent"},
        {"name": "lab-admin", "comment": "Lab administrator", "admin": True},
        {"name": "svc-probe", "kind": "service", "comment": "monitoring probe"},
        {"name": "lab-leaver", "state": "revoked"},
    ]
    return site


def _write(folder: Path, site: dict) -> None:
    (folder / "sites").mkdir(parents=True, exist_ok=True)
    (folder / "ccops.yml").write_text("plugin: ccops\nsites: sites\n")
    (folder / "sites" / "lab.yml").write_text(yaml.safe_dump(site, sort_keys=False))


def _reaches(source: str, target: str) -> bool:
    """Whether source opens a TCP connection to target's SSH port (a dropped SYN times out)."""
    address = STATE["addresses"][target]
    probe = subprocess.run(
        ["podman", "exec", f"ccops-lab-{source}", "timeout", "3", "bash", "-c", f"</dev/tcp/{address}/22"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


def _comply(home: Path, inventory: Path, *args: str) -> subprocess.CompletedProcess:
    return run_ccops(home, "comply", "-i", str(inventory), *args, timeout=900)


def _install_cron(host: str) -> None:
    # the "anti-virus agent" the policy requires: installed, then kept by the restore card
    pexec(host, "apt-get", "update", "-qq")
    pexec(host, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "cron")
    pexec(host, "/usr/local/sbin/ccops-restore-card", "rebaseline")


@pytest.fixture(scope="module")
def fleet(lab_home, tmp_path_factory):
    lab = lab_home / "lab"
    lab_site = yaml.safe_load((ROOT / "inventory" / "lab" / "sites" / "lab.yml").read_text())
    STATE["lab_site"] = lab_site
    STATE["addresses"] = {h: v["address"] for h, v in lab_site["hosts"].items()}
    assert set(STATE["addresses"]) >= {*MANAGED, OUTSIDER}, lab
    inventory = tmp_path_factory.mktemp("comply-inventory")
    _write(inventory, _site(lab_site, MANAGED))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(_install_cron, MANAGED))
    yield lab_home, inventory
    # the next modules expect hosts without this module's ruleset, accounts and packages: the two
    # managed hosts are recreated (the outsider was only probed); lab up brings the fleet back to 3
    subprocess.run(["podman", "rm", "-f", "-t", "5", *(f"ccops-lab-{h}" for h in MANAGED)], check=False, timeout=300)
    run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True, timeout=1800)


def test_fix_builds_the_allow_list_from_the_inventory(fleet):
    home, inventory = fleet
    # the probe works: before the fix, everyone reaches everyone
    assert _reaches(OUTSIDER, DRIFTED) and _reaches("lab-deb11-01", DRIFTED)
    check = _comply(home, inventory, "--check")
    assert check.returncode == 2, check.stdout + check.stderr
    fix = _comply(home, inventory, "--fix", "--yes", "--change-id", "CHG-COMPLY-1", "--output", "json")
    data = payload(fix.stdout)
    assert fix.returncode == 0 and data["status"] == "succeeded", fix.stdout[-3000:] + fix.stderr[-3000:]
    for host in MANAGED:
        report = data["reports"][host]
        assert report["deviations"] == [] and report["fixed"], report
    assert not _reaches(OUTSIDER, DRIFTED) and not _reaches(OUTSIDER, "lab-deb11-01")
    assert _reaches("lab-deb11-01", DRIFTED) and _reaches(DRIFTED, "lab-deb11-01")


def test_drift_is_found_one_line_each_and_repaired(fleet, tmp_path):
    home, inventory = fleet
    pexec(DRIFTED, "rm", "/etc/modprobe.d/ccops-usb-storage.conf")  # USB block removed by hand
    pexec(DRIFTED, "gpasswd", "--add", "lab-agent", "sudo")  # a local administrator nobody declared
    pexec(DRIFTED, "useradd", "--create-home", "--shell", "/bin/bash", "lab-leaver")  # should have been revoked
    pexec(DRIFTED, "systemctl", "stop", "cron")  # the required agent stopped
    junit = tmp_path / "comply.xml"
    check = _comply(home, inventory, "--check", "--junit", str(junit))
    assert check.returncode == 2, check.stdout + check.stderr
    lines = [line for line in check.stdout.splitlines() if line.startswith(DRIFTED)]
    assert len(lines) == 4, check.stdout
    for policy in ("usb_storage", "local_admins", "revoked_accounts", "services"):
        assert sum(policy in line for line in lines) == 1, (policy, check.stdout)
    assert any(line.startswith("lab-deb11-01") and "compliant" in line for line in check.stdout.splitlines())
    suites = {s.get("name"): s for s in ET.parse(junit).getroot()}  # noqa: S314 (the file ccops just wrote)
    failed = {c.get("name") for c in suites[DRIFTED] if c.find("failure") is not None}
    assert failed == {"usb_storage", "local_admins", "revoked_accounts", "services"}
    assert suites["lab-deb11-01"].get("failures") == "0"

    fix = _comply(home, inventory, "--fix", "--yes", "--change-id", "CHG-COMPLY-2", "--output", "json")
    data = payload(fix.stdout)
    assert fix.returncode == 0, fix.stdout[-3000:] + fix.stderr[-3000:]
    assert {d["policy"] for d in data["reports"][DRIFTED]["fixed"]} == {
        "usb_storage",
        "local_admins",
        "revoked_accounts",
        "services",
    }
    # the record says who took what from whom under which change
    record = payload(run_ccops(home, "runs", "show", data["run_id"], "--output", "json", check=True).stdout)
    assert record["change_id"] == "CHG-COMPLY-2" and record["operator"]
    fixed = next(h for h in record["hosts"] if h["host"] == DRIFTED)["report"]["fixed"]
    assert any(d["policy"] == "local_admins" and "lab-agent" in d["detail"] for d in fixed), fixed
    assert "lab-agent" not in pexec(DRIFTED, "getent", "group", "sudo")
    assert pexec(DRIFTED, "getent", "passwd", "lab-leaver").strip().endswith("/usr/sbin/nologin")
    assert pexec(DRIFTED, "systemctl", "is-active", "cron").strip() == "active"

    again = _comply(home, inventory, "--fix", "--yes", "--change-id", "CHG-COMPLY-3", "--output", "json")
    data = payload(again.stdout)
    assert again.returncode == 0, again.stdout[-3000:]
    assert {h["host"]: h["changed"] for h in data["hosts"]} == dict.fromkeys(MANAGED, 0)


def test_the_fix_survives_a_reboot_with_the_restore_card(fleet):
    home, inventory = fleet
    reboot(DRIFTED)
    check = _comply(home, inventory, "--check", "--limit", DRIFTED)
    assert check.returncode == 0, check.stdout + check.stderr
    assert not _reaches(OUTSIDER, DRIFTED) and _reaches("lab-deb11-01", DRIFTED)


def test_a_host_removed_from_the_inventory_is_locked_out_at_the_next_fix(fleet):
    home, inventory = fleet
    _write(inventory, _site(STATE["lab_site"], [DRIFTED]))
    fix = _comply(home, inventory, "--fix", "--yes", "--change-id", "CHG-COMPLY-4", "--output", "json")
    assert fix.returncode == 0, fix.stdout[-3000:] + fix.stderr[-3000:]
    assert [d["policy"] for d in payload(fix.stdout)["reports"][DRIFTED]["fixed"]] == ["firewall"]
    assert not _reaches("lab-deb11-01", DRIFTED)
