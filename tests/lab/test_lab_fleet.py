"""The lab is dependable: a stalled boot is repaired, a host that cannot start is named.

Also: probing sshd leaves nothing in a host's journal that `host show` would list
as a warning, and an asset record shows the lab host's uptime, not the controller's.
"""

import json
import subprocess
import time
from pathlib import Path

import pytest

from ccops.lab.podman import podman_env
from tests.conftest import run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec

pytestmark = pytest.mark.lab
LAB = ["lab-deb11-01", "lab-deb12-01", "lab-deb13-01"]
STALLED = "lab-deb13-01"
# a unit that holds sysinit.target forever: the boot queues its jobs and sshd never starts
STALL_UNIT = """\
[Unit]
Description=ccops lab test: a boot that never finishes
DefaultDependencies=no
Before=sysinit.target

[Service]
Type=oneshot
ExecStart=/bin/sleep infinity
TimeoutStartSec=infinity
"""


def _container_id(host: str) -> str:
    return subprocess.run(
        ["podman", "container", "inspect", "--format", "{{.Id}}", f"ccops-lab-{host}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def _inventory_hosts(home) -> list[str]:
    result = run_ccops(home, "inventory", "list", "--output", "json", check=True)
    return sorted(h for h in payload(result.stdout)["_meta"]["hostvars"] if h.startswith("lab-deb"))


def _ssh_login(home, address: str) -> subprocess.CompletedProcess:
    lab = home / "lab"
    return subprocess.run(
        [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={lab / 'known_hosts'}",
            "-i",
            str(lab / "id_ed25519"),
            f"ccops@{address}",
            "true",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _wait_stalled(host: str, timeout: float = 60) -> None:
    """Until the stall unit holds the boot: it runs, and the jobs behind it wait."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = pexec(host, "systemctl", "list-jobs", "--no-legend", check=False)
        if "ccops-lab-stall.service" in jobs and "ssh.service" in jobs:
            return
        time.sleep(1)
    raise AssertionError(f"{host} did not stall: {jobs}")


@pytest.fixture
def stalled_host(lab_home):
    # thawed, so the card does not undo the stall at boot; the host is recreated anyway
    pexec(STALLED, "ccops-restore-card", "thaw")
    pexec(STALLED, "tee", "/etc/systemd/system/ccops-lab-stall.service", stdin=STALL_UNIT)
    pexec(
        STALLED,
        "ln",
        "-sf",
        "/etc/systemd/system/ccops-lab-stall.service",
        "/etc/systemd/system/sysinit.target.wants/ccops-lab-stall.service",
    )
    subprocess.run(["podman", "restart", "-t", "5", f"ccops-lab-{STALLED}"], capture_output=True, check=True)
    _wait_stalled(STALLED)
    yield lab_home
    if pexec(STALLED, "systemctl", "is-system-running", check=False).strip() not in ("running", "degraded"):
        subprocess.run(["podman", "rm", "-f", "-t", "0", f"ccops-lab-{STALLED}"], capture_output=True, check=False)
        run_ccops(lab_home, "lab", "up", "--hosts", "3", timeout=900)


def test_lab_up_recreates_a_running_host_whose_boot_stalled(stalled_host):
    home = stalled_host
    before = _container_id(STALLED)
    result = run_ccops(home, "lab", "up", "--hosts", "3", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{STALLED}: boot stalled" in result.stderr and "recreating it" in result.stderr
    assert _container_id(STALLED) not in ("", before)
    assert "ccops-lab-stall" not in pexec(STALLED, "systemctl", "list-units", "--all", "--no-legend")
    assert pexec(STALLED, "systemctl", "is-system-running", check=False).strip() in ("running", "degraded")
    assert _inventory_hosts(home) == LAB
    # the new host's key is in known_hosts and the lab key lets ccops in
    login = _ssh_login(home, "10.213.0.12")
    assert login.returncode == 0, login.stderr


def test_a_host_that_cannot_start_is_named_and_the_others_keep_their_inventory(lab_home):
    # lab-deb11-02 gets 10.213.0.13; a container that is not the lab's already holds that address
    squatter = "ccops-test-squatter"
    subprocess.run(
        [
            "podman",
            "run",
            "-d",
            "--name",
            squatter,
            "--network",
            "ccops-lab",
            "--ip",
            "10.213.0.13",
            "localhost/ccops-lab:debian12",
            "sleep",
            "infinity",
        ],
        capture_output=True,
        check=True,
        env=podman_env(),
    )
    try:
        result = run_ccops(lab_home, "lab", "up", "--hosts", "4", timeout=900)
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", squatter], capture_output=True, check=False, env=podman_env())
    try:
        assert result.returncode == 2, result.stderr[-3000:]
        last = result.stderr.strip().splitlines()[-1]
        assert "lab-deb11-02" in last and "did not come up" in last and "lab-deb11-01" not in last
        assert "gave up after 3 attempts" in result.stderr
        assert _inventory_hosts(lab_home) == LAB
        assert len((lab_home / "lab" / "known_hosts").read_text().splitlines()) == 3
    finally:
        run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True, timeout=900)
    assert "lab-deb11-02" not in run_ccops(lab_home, "lab", "status", check=True).stdout


def test_probing_sshd_leaves_no_errors_in_a_hosts_journal(lab_home):
    run_ccops(lab_home, "lab", "status", check=True)
    time.sleep(1)  # journald catches up with the last probe
    for host in LAB:
        journal = pexec(host, "journalctl", "--no-pager", "--quiet", "-o", "cat")
        assert "kex_exchange_identification" not in journal, host
        # the probes did reach sshd, said who they are and left as a client should
        assert "ccops lab probe done" in journal, host


def test_an_asset_record_shows_the_lab_hosts_uptime_not_the_controllers(lab_home):
    host = "lab-deb12-01"
    result = run_ccops(lab_home, "inspect", "--limit", host, "--output", "json")
    assert result.returncode == 0, result.stderr[-3000:]
    reported = int(payload(result.stdout)["reports"][host]["uptime_seconds"])
    booted_ago = int(pexec(host, "ps", "-o", "etimes=", "-p", "1").strip())
    controller = float(Path("/proc/uptime").read_text().split()[0])
    assert controller - booted_ago > 60, "the controller booted just before the lab: the test cannot tell them apart"
    # the record was made during the inspect run, a little before ps looked
    assert booted_ago - 120 <= reported <= booted_ago


def test_the_lab_network_is_internal_and_this_machine_forwards_nothing_out_of_it(lab_home):
    network = json.loads(
        subprocess.run(
            ["podman", "network", "inspect", "ccops-lab"], capture_output=True, text=True, check=True, env=podman_env()
        ).stdout
    )[0]
    assert network["internal"] is True and [s["subnet"] for s in network["subnets"]] == ["10.213.0.0/24"]
    assert pexec("lab-deb12-01", "ip", "route").split()[0] != "default"
    guard = subprocess.run(["nft", "list", "table", "inet", "ccops_lab_guard"], capture_output=True, text=True)
    assert guard.returncode == 0, guard.stderr
    assert "ip saddr 10.213.0.0/24 ip daddr != 10.213.0.0/24 drop" in guard.stdout
    assert f'iifname "{network["network_interface"]}" oifname != "{network["network_interface"]}" drop' in guard.stdout
