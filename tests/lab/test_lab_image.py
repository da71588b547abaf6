"""Network imaging on QEMU machines: blank disks, PXE through iPXE, the imager, first boot, converge.

One image build per module (kept in CCOPS_IMAGE_CACHE between runs, like the
lab's podman images), two blank machines. The machines run in software
emulation: at most two at once, and only while these tests hold the lab lock.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import BIN, ROOT, ccops_env, run_ccops
from tests.json_output import data_of, payload

pytestmark = pytest.mark.lab
IMAGE = "voice-debian12"
VMS = ("lab-vm-01", "lab-vm-02")
CACHE = os.environ.get("CCOPS_IMAGE_CACHE", "/var/tmp/ccops-test-images")


class VMLab:
    def __init__(self, home: Path, inventory: Path) -> None:
        self.home, self.inventory = home, inventory
        self.env = {**ccops_env(home), "CCOPS_IMAGE_CACHE": CACHE}

    def ccops(self, *args: str, check: bool = False, timeout: float = 900):
        return run_ccops(self.home, *args, check=check, timeout=timeout, env=self.env)

    def deploy(self, *args: str):
        proc = self.ccops("deploy", "--image", IMAGE, "-i", str(self.inventory), "--yes", "-o", "json", *args)
        return proc.returncode, data_of(json.loads(proc.stdout or "{}")), proc.stderr

    @property
    def site_file(self) -> Path:
        return self.inventory / "sites" / "lab-vm.yml"

    def lifecycle(self, host: str) -> str:
        from ccops.inventory.load import load_inventory

        return load_inventory(self.inventory).hosts[host].lifecycle

    def vm(self, name: str):
        from ccops.lab import vms

        os.environ["CCOPS_HOME"] = str(self.home)
        return next(v for v in vms.known() if v.name == name)


@pytest.fixture(scope="module")
def vmlab(tmp_path_factory):
    home = tmp_path_factory.mktemp("ccops-vm-home")
    lab = VMLab(home, home / "inventory")
    saved = os.environ.get("CCOPS_HOME")
    lab.ccops("image", "build", IMAGE, check=True, timeout=1800)
    lab.ccops("lab", "vm", "up", "--count", "2", "--inventory", str(lab.inventory), check=True)
    lab.ccops("image", "stage", IMAGE, "--site", "labvm", "-i", str(lab.inventory), check=True)
    yield lab
    lab.ccops("lab", "vm", "down", timeout=300)
    if saved is None:
        os.environ.pop("CCOPS_HOME", None)
    else:
        os.environ["CCOPS_HOME"] = saved


def test_a_corrupted_staged_image_is_refused_at_the_checksum_phase(vmlab):
    from ccops.lab import vms

    staged = next((vmlab.home / "lab" / "vms" / "point" / "images" / IMAGE).glob("*/disk.raw.zst"))
    data = bytearray(staged.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle: same size, still a zstd stream start
    staged.write_bytes(bytes(data))

    code, result, stderr = vmlab.deploy("--limit", "lab-vm-02", "--change-id", "CHG-IMG-1")
    assert code in (2, 3), stderr
    (host,) = result["hosts"]
    assert (host["host"], host["outcome"]) == ("lab-vm-02", "failed")
    assert host["message"].startswith("checksum: the imager reported: checksum failed"), host
    assert result["reports"]["lab-vm-02"]["phase"] == "checksum"
    assert vmlab.lifecycle("lab-vm-02") == "planned"  # never reported active
    vm = vmlab.vm("lab-vm-02")
    assert vms.wait_stopped(vm, 60), "the imager powers the machine off"
    assert vms.disk_is_blank(vm), "not a byte of the damaged image reached the disk"
    restaged = vmlab.ccops("image", "stage", IMAGE, "--site", "labvm", "-i", str(vmlab.inventory), check=True)
    assert "disk.raw.zst" in restaged.stdout  # the damaged copy is replaced, the intact files are not sent again
    assert "vmlinuz" not in restaged.stdout


def _kill_once_one_machine_is_imaged(vmlab: VMLab, *args: str) -> tuple[str, set[str], dict[str, int | None]]:
    """Start a deploy, kill -9 its controller the moment the run's folder holds a machine whose imaging
    ended well; answer the run, the machines imaged by then and every machine's QEMU pid at the kill."""
    import signal
    import subprocess
    import time

    from ccops.lab import vms
    from ccops.run.identity import run_dir

    vmlab.vm(VMS[0])  # CCOPS_HOME for run_dir
    runs = run_dir("x").parent
    known = set(runs.iterdir()) if runs.is_dir() else set()
    argv = ["deploy", "--image", IMAGE, "-i", str(vmlab.inventory), "--yes", "-o", "json", *args]
    log = vmlab.home / "killed-deploy.stderr"
    with log.open("w") as stderr:
        controller = subprocess.Popen(
            [str(BIN / "ccops"), *argv], env=vmlab.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr
        )
    deadline = time.monotonic() + 900
    imaged: list[Path] = []
    while not imaged:
        assert controller.poll() is None, f"the deploy ended before a machine was imaged: {log.read_text()}"
        assert time.monotonic() < deadline, "no machine imaged within 900 s"
        time.sleep(0.2)
        fresh = sorted(set(runs.iterdir()) - known) if runs.is_dir() else []
        imaged = [p for run in fresh for p in (run / "imaged").glob("*.json")]
    os.kill(controller.pid, signal.SIGKILL)
    controller.wait(30)
    run = imaged[0].parent.parent
    pids = {name: vms.pid_of(vmlab.vm(name)) for name in VMS}
    return run.name, {p.stem for p in (run / "imaged").glob("*.json")}, pids


def test_two_blank_machines_are_imaged_in_one_wave_and_become_active(vmlab):
    from ccops.lab import vms

    before = vmlab.site_file.read_text().splitlines()
    # the controller dies once one machine is imaged, the other one mid-imaging: ccops resume finishes the run
    run, imaged, pids = _kill_once_one_machine_is_imaged(vmlab, "--site", "labvm", "--change-id", "CHG-IMG-2")
    assert imaged and all(pids.values()), (imaged, pids)
    assert [vmlab.lifecycle(n) for n in VMS] == ["planned"] * 2  # never active before its converge
    proc = vmlab.ccops("resume", run, "--yes", "-o", "json")
    code, result, stderr = proc.returncode, data_of(json.loads(proc.stdout or "{}")), proc.stderr
    assert code == 0, (result.get("hosts"), stderr[-3000:])
    assert result["status"] == "succeeded"
    for name in VMS:
        # a machine imaged before the kill kept running (same QEMU); any other was powered back to PXE
        assert (vms.pid_of(vmlab.vm(name)) == pids[name]) == (name in imaged), (name, imaged, stderr[-2000:])
    assert [(w["hosts"], w["outcomes"]) for w in result["waves"]] == [(2, {"ok": 2})]
    for name in VMS:
        report = result["reports"][name]
        assert (report["outcome"], report["phase"]) == ("deployed", "converge")
        assert report["image"]["version"] == "2026.11.2"
        assert vmlab.lifecycle(name) == "active"
    after = vmlab.site_file.read_text().splitlines()
    assert sorted(line for line in after if line not in before) == ["    lifecycle: active"] * 2
    # each machine made its own host key at its first boot; ccops recorded them for its runs
    known = (vmlab.home / "lab" / "vms" / "known_hosts").read_text().splitlines()
    keys = {line.split()[0]: line.split()[2] for line in known if " ssh-ed25519 " in line}
    assert len(keys) == 2 and len(set(keys.values())) == 2
    shown = payload(vmlab.ccops("host", "show", "lab-vm-01", "-i", str(vmlab.inventory), "-o", "json").stdout)
    assert shown["asset"]["record"]["image"]["version"] == "2026.11.2"


def test_deployed_machines_pass_inspect_and_a_second_converge_changes_nothing(vmlab):
    inspect = vmlab.ccops("inspect", "-i", str(vmlab.inventory), "--change-id", "CHG-IMG-3")
    assert inspect.returncode == 0, inspect.stdout + inspect.stderr
    code, result, stderr = vmlab.deploy("--converge-only", "--site", "labvm", "--change-id", "CHG-IMG-4")
    assert code == 0, stderr[-3000:]
    assert [(h["host"], h["outcome"], h["changed"]) for h in result["hosts"]] == [(n, "ok", 0) for n in VMS]


def _ssh(vmlab: VMLab, name: str, *argv: str) -> str:
    """A command on a deployed machine, over SSH with ccops's own key and the recorded host key.

    ssh hands the remote shell one command line: the argv is quoted into it, word for word.
    """
    import shlex
    import subprocess

    vm = vmlab.vm(name)
    proc = subprocess.run(
        [
            "ssh", "-i", str(vmlab.home / "lab" / "id_ed25519"), "-p", str(vm.ssh_port),
            "-o", f"UserKnownHostsFile={vmlab.home / 'lab' / 'vms' / 'known_hosts'}",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "ccops@127.0.0.1", "--", shlex.join(argv),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_rebuild_keeps_the_declared_data(vmlab):
    _ssh(vmlab, "lab-vm-01", "sudo", "install", "-d", "/etc/ccops-seat")
    _ssh(vmlab, "lab-vm-01", "sudo", "sh", "-c", "echo seat-data-4711 > /etc/ccops-seat/agent.conf")
    _ssh(vmlab, "lab-vm-01", "sudo", "sh", "-c", "echo not-declared > /etc/ccops/scratch")
    known = vmlab.home / "lab" / "vms" / "known_hosts"
    before = known.read_text()
    code, result, stderr = vmlab.deploy("--rebuild", "--limit", "lab-vm-01", "--change-id", "CHG-IMG-5")
    assert code == 0, (result.get("hosts"), stderr[-3000:])
    report = result["reports"]["lab-vm-01"]
    assert report["restored"]["paths"] == ["/etc/ccops-seat"]
    assert _ssh(vmlab, "lab-vm-01", "cat", "/etc/ccops-seat/agent.conf") == "seat-data-4711\n"
    assert _ssh(vmlab, "lab-vm-01", "ls", "/etc/ccops").split() == ["deployed.json", "image.json"]  # a new disk
    assert known.read_text() != before  # the rebuilt machine made a new host key, recorded by the deploy
    assert vmlab.lifecycle("lab-vm-01") == "active"
