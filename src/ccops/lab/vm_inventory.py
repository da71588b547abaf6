"""The VM lab's site file: blank machines as `planned` hosts with their MAC addresses.

Written beside the container lab's site in the lab inventory (sites/lab-vm.yml),
or into another inventory folder a test names. ``ccops deploy`` moves a host to
`active` by editing this file; writing it again keeps each host's lifecycle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ccops.inventory.variants import DAYS
from ccops.lab.inventory import _atomic_write
from ccops.lab.vms import GUEST_POINT, GUEST_POINT_PORT, LabVM, vm_dir

SITE_FILE = "lab-vm.yml"
HEADER = (
    "# Written by `ccops lab vm up`; `ccops lab vm down` removes it. ccops deploy edits\n"
    "# the lifecycle of the machines it images (planned -> active).\n"
)


def point_folder() -> Path:
    """Where the VM site's distribution point keeps what is staged on it."""
    return vm_dir() / "point"


def vm_site(vms: list[LabVM], lab_dir: Path, lifecycles: dict[str, str]) -> dict[str, Any]:
    return {
        "site": {
            "code": "labvm",
            "name": "ccops VM lab on this machine",
            "city": "localhost",
            "timezone": "UTC",
            "maintenance_windows": [{"days": list(DAYS), "start": "00:00", "end": "00:00"}],
            # what the machines reach (QEMU forwards it to the server ccops deploy runs on 127.0.0.1)
            "distribution_point": {
                "host": "localhost",
                "path": str(point_folder()),
                "url": f"http://{GUEST_POINT}:{GUEST_POINT_PORT}",
            },
            "backup_target": {"host": "localhost", "path": str(lab_dir / "backups")},
            # no canary: the lab's machines are imaged together, as one wave
            "rollout": {"waves": ["100%"], "batch_size": 2, "max_fail_percentage": 0},
        },
        # the guests reach nothing outside: no package lists to refresh
        "vars": {"asset_refresh_package_lists": False, "backup_paths": ["/etc/ccops-seat"]},
        "connections": {
            "lab-vm-ssh": {
                "type": "ssh",
                "user": "ccops",
                "key_file": str(lab_dir / "id_ed25519"),
                "known_hosts": str(vm_dir() / "known_hosts"),
                "become": True,
            },
        },
        "groups": [
            {
                "name": "vm-seats",
                "role": "agent_desktop",
                "os": "debian12",
                "business_line": "voice",
                "connection": "lab-vm-ssh",
                "lifecycle": "planned",
                "hosts": [vm.name for vm in vms],
            }
        ],
        "hosts": {
            vm.name: {
                "address": "127.0.0.1",
                "port": vm.ssh_port,
                "mac": vm.mac,
                **({"lifecycle": lifecycles[vm.name]} if lifecycles.get(vm.name, "planned") != "planned" else {}),
            }
            for vm in vms
        },
    }


def current_lifecycles(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    return {name: str(o.get("lifecycle")) for name, o in (data.get("hosts") or {}).items() if o.get("lifecycle")}


def write_vm_site(folder: Path, vms: list[LabVM], lab_dir: Path, fresh: set[str]) -> Path:
    """Write the site file; machines in ``fresh`` (new, blank disks) are planned whatever the file said."""
    (folder / "sites").mkdir(parents=True, exist_ok=True)
    config = folder / "ccops.yml"
    if not config.exists():
        _atomic_write(config, "# Written by `ccops lab vm up`.\nplugin: ccops\nsites: sites\n")
    path = folder / "sites" / SITE_FILE
    lifecycles = {k: v for k, v in current_lifecycles(path).items() if k not in fresh}
    _atomic_write(path, HEADER + yaml.safe_dump(vm_site(vms, lab_dir, lifecycles), sort_keys=False, width=100))
    return path
