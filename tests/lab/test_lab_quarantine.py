"""Quarantine on real hosts: a host out of policy is held apart after the next scheduled check (another
lab host cannot reach it, the controller still can, it still installs packages), ``comply --fix`` on it
lifts the hold; and a container started on the lab network outside the inventory is an unknown device.

lab-deb11-01 is the site's distribution point, lab-deb12-01 goes out of policy, lab-deb13-01 is the
neighbour that must lose it. Tests run in file order and build on each other; the module recreates
the hosts it reshaped at its end. Run under the lab lock (flock /tmp/ccops-lab.lock).
"""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from ccops.lab.network import GATEWAY, NETWORK, SUBNET
from ccops.lab.podman import podman_env
from tests.conftest import ROOT, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec

pytestmark = pytest.mark.lab
HOSTS = ["lab-deb11-01", "lab-deb12-01", "lab-deb13-01"]
HELD, NEIGHBOUR = "lab-deb12-01", "lab-deb13-01"
STRANGER = "ccops-quarantine-stranger"  # a container on the lab network that no inventory names
STRANGER_ADDRESS = str(SUBNET.network_address + 200)
STATE: dict = {}


def _site(lab_site: dict) -> dict:
    site = json.loads(json.dumps(lab_site))
    site["site"]["management"] = [str(GATEWAY)]
    site["site"]["quarantine"] = {"out_of_policy_days": 0}  # out of policy at a check: held
    site["site"]["subnets"] = [str(SUBNET)]
    site["site"]["gateways"] = [str(GATEWAY)]
    site["policies"] = [
        {
            "usb_storage": "blocked",
            "firewall": {"allow": [{"ports": [22], "from": ["management", "site"]}], "deny": ["198.51.100.0/24"]},
        }
    ]
    return site


SCHEDULES = """\
schedules:
  - name: lab-check
    site: lab
    run: comply --check
    at: "03:00"
    change_id: STD-LAB-CHECK
"""


def _reaches(source: str, target: str) -> bool:
    """Whether source opens a TCP connection to target's SSH port (a dropped SYN times out)."""
    probe = subprocess.run(
        ["podman", "exec", f"ccops-lab-{source}", "timeout", "3", "bash", "-c", f"</dev/tcp/{STATE[target]}/22"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


def _ccops(home: Path, *args: str) -> subprocess.CompletedProcess:
    return run_ccops(home, *args, timeout=900)


def _holds(home: Path, inventory: Path) -> list[dict]:
    return payload(_ccops(home, "quarantine", "list", "-i", str(inventory), "-o", "json").stdout)["holds"]


@pytest.fixture(scope="module")
def fleet(lab_home, tmp_path_factory):
    lab_site = yaml.safe_load((ROOT / "inventory" / "lab" / "sites" / "lab.yml").read_text())
    STATE.update({h: v["address"] for h, v in lab_site["hosts"].items()})
    assert set(STATE) >= set(HOSTS), lab_site["hosts"]
    inventory = tmp_path_factory.mktemp("quarantine-inventory")
    (inventory / "sites").mkdir()
    (inventory / "ccops.yml").write_text("plugin: ccops\nsites: sites\n")
    (inventory / "sites" / "lab.yml").write_text(yaml.safe_dump(_site(lab_site), sort_keys=False))
    (inventory / "schedules.yml").write_text(SCHEDULES)
    yield lab_home, inventory
    subprocess.run(["podman", "rm", "-f", "-t", "5", STRANGER], check=False, timeout=120, env=podman_env())
    subprocess.run(["podman", "rm", "-f", "-t", "5", *(f"ccops-lab-{h}" for h in HOSTS)], check=False, timeout=300)
    run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True, timeout=1800)


def test_an_out_of_policy_host_is_held_apart_after_the_scheduled_check(fleet):
    home, inventory = fleet
    baseline = _ccops(home, "comply", "-i", str(inventory), "--fix", "--yes", "--change-id", "CHG-Q-1")
    assert baseline.returncode == 0, baseline.stdout[-3000:] + baseline.stderr[-3000:]
    assert _holds(home, inventory) == [] and _reaches(NEIGHBOUR, HELD)

    pexec(HELD, "rm", "/etc/modprobe.d/ccops-usb-storage.conf")  # the USB block removed by hand
    fired = _ccops(home, "schedule", "run", "lab-check", "-i", str(inventory))
    assert fired.returncode == 2, fired.stdout[-3000:] + fired.stderr[-3000:]  # the check found it out of policy
    (hold,) = _holds(home, inventory)
    assert (hold["host"], hold["kind"]) == (HELD, "automatic") and hold["applied_run"], hold
    record = payload(_ccops(home, "runs", "show", hold["applied_run"], "-o", "json").stdout)
    assert record["status"] == "succeeded" and "out of policy" in record["request"]["reason"], record["message"]

    assert not _reaches(NEIGHBOUR, HELD)  # another lab host cannot reach it
    controller = _ccops(home, "uptime", "-i", str(inventory), "--limit", HELD)  # the controller still can
    assert controller.returncode == 0, controller.stdout + controller.stderr
    pexec(HELD, "apt-get", "update", "-qq")  # and it still installs its packages
    pexec(HELD, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "bc")
    assert pexec(HELD, "dpkg-query", "-W", "-f", "${Status}", "bc").endswith("installed")


def test_comply_fix_on_the_held_host_lifts_the_hold(fleet):
    home, inventory = fleet
    fix = _ccops(home, "comply", "-i", str(inventory), "--fix", "--limit", HELD, "--yes", "--change-id", "CHG-Q-2")
    assert fix.returncode == 0, fix.stdout[-3000:] + fix.stderr[-3000:]
    assert _holds(home, inventory) == []
    assert _reaches(NEIGHBOUR, HELD)  # the lift's run gave it back its site's allow-list


def test_a_container_outside_the_inventory_is_reported_as_an_unknown_device(fleet):
    home, inventory = fleet
    image = subprocess.run(
        ["podman", "container", "inspect", "--format", "{{.ImageName}}", f"ccops-lab-{NEIGHBOUR}"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    started = subprocess.run(  # with the lab's own podman settings (its runtime), as the lab hosts were
        ["podman", "run", "-d", "--rm", "--name", STRANGER, f"--network={NETWORK}", "--ip", STRANGER_ADDRESS,
         image, "sleep", "600"],
        capture_output=True, text=True, timeout=120, env=podman_env(), check=False,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    pexec(NEIGHBOUR, "timeout", "3", "bash", "-c", f"</dev/tcp/{STRANGER_ADDRESS}/22", check=False)  # ARP learns it
    inspected = _ccops(home, "inspect", "-i", str(inventory), "--limit", NEIGHBOUR)
    assert inspected.returncode == 0, inspected.stdout[-3000:] + inspected.stderr[-3000:]
    risks = payload(_ccops(home, "risks", "-i", str(inventory), "-o", "json").stdout)["risks"]
    unknown = [r for r in risks if r["kind"] == "unknown_device"]
    assert [r["seen_by"] for r in unknown if r["address"] == STRANGER_ADDRESS] == [[NEIGHBOUR]], unknown
    assert not {r["address"] for r in unknown} & ({STATE[h] for h in HOSTS} | {str(GATEWAY)})  # known: never reported
