"""Virtual machines in the lab: blank QEMU machines that network-boot, for ccops deploy.

QEMU runs in software emulation (TCG; KVM does not work on these machines)
with user-mode networking and restrict=on: the guest reaches nothing but what
ccops forwards. SSH comes in on 127.0.0.1:PORT; the site's distribution point
is the guest's 10.0.2.100:8000, forwarded by socat to a server ccops runs on
127.0.0.1 during a deployment. QEMU's own TFTP hands iPXE a small script that
asks the point for this machine's boot script. A machine is created powered
off; ccops deploy powers it on once its point serves (the lab's stand-in for
a site's power control: IPMI, Wake-on-LAN, or a person).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ccops.errors import LabError
from ccops.paths import state_dir

if TYPE_CHECKING:
    from ccops.inventory.model import Host

GUEST_POINT = "10.0.2.100"
GUEST_POINT_PORT = 8000
DISK_SIZE = "4G"
MEMORY_MB = 1024
QEMU = "qemu-system-x86_64"
# asked for again every few seconds until a deployment answers for this machine's MAC address
BOOTSTRAP = f"""#!ipxe
echo ccops lab: asking the distribution point for this machine's boot script
chain --autofree http://{GUEST_POINT}:{GUEST_POINT_PORT}/pxe/${{net0/mac:hexhyp}}.ipxe || exit 1
"""


@dataclass(frozen=True)
class LabVM:
    name: str
    mac: str
    ssh_port: int

    @property
    def folder(self) -> Path:
        return vm_dir() / self.name

    @property
    def disk(self) -> Path:
        return self.folder / "disk.qcow2"

    @property
    def serial_log(self) -> Path:
        return self.folder / "serial.log"


def vm_dir() -> Path:
    return state_dir() / "lab" / "vms"


def point_port() -> int:
    """The 127.0.0.1 port the guests' distribution point forwards to (chosen once per state folder)."""
    path = vm_dir() / "point.json"
    if path.is_file():
        return int(json.loads(path.read_text())["port"])
    vm_dir().mkdir(parents=True, exist_ok=True)
    port = free_port()
    path.write_text(json.dumps({"port": port}))
    return port


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vm_name(number: int) -> str:
    return f"lab-vm-{number:02d}"


def known() -> list[LabVM]:
    out = []
    for path in sorted(vm_dir().glob("*/vm.json")):
        out.append(LabVM(**json.loads(path.read_text())))
    return out


def power_on(host: Host) -> str:
    """The lab's power control (entry point ccops.power_controls: lab): netboot a lab machine, "" for others."""
    for vm in known():
        if vm.name == host.name and vm.mac == host.mac:
            stop(vm)  # a machine already on (a failed earlier try, a rebuild) starts over
            return f"lab (QEMU pid {start(vm, netboot_first=True)})"
    return ""


def pid_of(vm: LabVM) -> int | None:
    """QEMU's pid if it runs for this machine (the pid file, checked against /proc: never a stranger)."""
    try:
        pid = int((vm.folder / "qemu.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    return pid if any(str(vm.disk).encode() in arg for arg in cmdline) else None


def create(number: int) -> LabVM:
    """A blank machine: its folder, an empty qcow2 disk, a fixed MAC address and an SSH port."""
    name = vm_name(number)
    existing = {v.name: v for v in known()}
    if name in existing:
        return existing[name]
    vm = LabVM(name, f"52:54:00:cc:01:{number:02x}", free_port())
    vm.folder.mkdir(parents=True, exist_ok=True)
    _run(["qemu-img", "create", "-q", "-f", "qcow2", str(vm.disk), DISK_SIZE])
    (vm.folder / "vm.json").write_text(json.dumps(asdict(vm)))
    return vm


def start(vm: LabVM, netboot_first: bool = False) -> int:
    """Power the machine on (disk first, then the network; or the network once, for a re-image)."""
    if (pid := pid_of(vm)) is not None:
        return pid
    tftp = vm_dir() / "tftp"
    tftp.mkdir(parents=True, exist_ok=True)
    (tftp / "ccops-lab.ipxe").write_text(BOOTSTRAP)
    forward = f"cmd:socat STDIO TCP:127.0.0.1:{point_port()}"
    netdev = (
        "user,id=net0,restrict=on,"
        f"hostfwd=tcp:127.0.0.1:{vm.ssh_port}-:22,"
        f"guestfwd=tcp:{GUEST_POINT}:{GUEST_POINT_PORT}-{forward},"
        f"tftp={tftp},bootfile=ccops-lab.ipxe"
    )
    pidfile = vm.folder / "qemu.pid"
    pidfile.unlink(missing_ok=True)
    argv = [
        QEMU,
        "-name", vm.name,
        "-accel", "tcg,tb-size=256",
        "-m", str(MEMORY_MB),
        "-smp", "1",
        "-display", "none",
        "-serial", f"file:{vm.serial_log}",
        "-monitor", f"unix:{vm.folder / 'monitor.sock'},server,nowait",  # screendump when a boot goes wrong
        "-drive", f"file={vm.disk},if=virtio,format=qcow2,discard=unmap,cache=unsafe",
        "-netdev", netdev,
        "-device", f"virtio-net-pci,netdev=net0,mac={vm.mac}",
        "-boot", "once=n,order=cn" if netboot_first else "order=cn",
        "-daemonize", "-pidfile", str(pidfile),
    ]  # fmt: skip
    _run(argv)
    pid = pid_of(vm)
    if pid is None:
        raise LabError(f"{vm.name}: QEMU did not start (see {vm.serial_log})")
    return pid


def stop(vm: LabVM, timeout: float = 20) -> None:
    """Power off: only the QEMU process this machine's pid file names, and only if it is ours."""
    pid = pid_of(vm)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_of(vm) is not None:
        time.sleep(0.2)
    if pid_of(vm) is not None:
        os.kill(pid, signal.SIGKILL)


def wait_stopped(vm: LabVM, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid_of(vm) is None:
            return True
        time.sleep(0.5)
    return False


def remove(vm: LabVM) -> None:
    import shutil

    stop(vm)
    shutil.rmtree(vm.folder, ignore_errors=True)


def disk_is_blank(vm: LabVM) -> bool:
    """No data written to the disk at all (qcow2 allocates nothing until the guest writes)."""
    out = _run(["qemu-img", "map", "--output=json", "-U", str(vm.disk)])
    return all(not part.get("data") for part in json.loads(out))


def _run(argv: list[str]) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    except FileNotFoundError:
        raise LabError(f"{argv[0]} is not installed: run scripts/setup") from None
    if proc.returncode != 0:
        raise LabError(f"{argv[0]} failed: {(proc.stderr or proc.stdout).strip()[:300]}")
    return proc.stdout
