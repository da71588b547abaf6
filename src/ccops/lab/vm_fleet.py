"""``ccops lab vm up|down|status``: blank lab machines waiting at PXE, and their site file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccops.errors import LabError
from ccops.image.deploy import SERVE_FILE
from ccops.lab import vms
from ccops.lab.vm_inventory import SITE_FILE, point_folder, write_vm_site
from ccops.paths import lab_inventory, state_dir

MAX_VMS = 4  # each QEMU in software emulation takes about one core


def inventory_file() -> Path:
    return vms.vm_dir() / "inventory.json"


def inventory_folder() -> Path:
    """The inventory folder the VM site file was written into (the lab inventory unless told otherwise)."""
    path = inventory_file()
    return Path(json.loads(path.read_text())["folder"]) if path.is_file() else lab_inventory()


def up(count: int, folder: Path | None = None, say: Callable[[str], None] = print) -> list[vms.LabVM]:
    if not 1 <= count <= MAX_VMS:
        raise LabError(f"--count must be between 1 and {MAX_VMS}")
    from ccops.lab.fleet import _credentials

    _credentials()  # the lab key the machines' admin account will accept
    folder = Path(folder or inventory_folder()).absolute()
    existing = {vm.name for vm in vms.known()}
    machines = [vms.create(n) for n in range(1, count + 1)]
    for vm in vms.known():
        if vm not in machines:
            say(f"  removing {vm.name}")
            vms.remove(vm)
    fresh = {vm.name for vm in machines if vm.name not in existing}
    for vm in machines:
        if vms.disk_is_blank(vm):  # powered on by ccops deploy, once its point serves
            say(f"  {vm.name}: blank, powered off, MAC {vm.mac}, SSH 127.0.0.1:{vm.ssh_port}")
        else:
            say(f"  {vm.name}: QEMU pid {vms.start(vm)}, booting from its disk, SSH 127.0.0.1:{vm.ssh_port}")
    point = point_folder()
    point.mkdir(parents=True, exist_ok=True)
    point.chmod(0o755)
    # ccops deploy serves this point on 127.0.0.1:PORT, where QEMU's guest forward leads
    (point / SERVE_FILE).write_text(json.dumps({"port": vms.point_port()}))
    inventory_file().write_text(json.dumps({"folder": str(folder)}))
    write_vm_site(folder, machines, state_dir() / "lab", fresh)
    return machines


def down(say: Callable[[str], None] = print) -> int:
    machines = vms.known()
    for vm in machines:
        say(f"  stopping {vm.name}")
        vms.remove(vm)
    site = inventory_folder() / "sites" / SITE_FILE
    site.unlink(missing_ok=True)
    inventory_file().unlink(missing_ok=True)
    (vms.vm_dir() / "known_hosts").unlink(missing_ok=True)
    return len(machines)


def status() -> list[dict[str, Any]]:
    return [
        {
            "host": vm.name,
            "mac": vm.mac,
            "ssh": f"127.0.0.1:{vm.ssh_port}",
            "qemu": "running" if vms.pid_of(vm) else "off",
            "disk": "blank" if vms.disk_is_blank(vm) else "written",
        }
        for vm in vms.known()
    ]
