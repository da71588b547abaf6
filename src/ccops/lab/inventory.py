"""The lab site inventory that ``ccops lab up`` writes and ``lab down`` removes."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ccops.inventory.variants import DAYS

if TYPE_CHECKING:
    from ccops.lab.fleet import LabHost

HEADER = "# Written by `ccops lab up`; `ccops lab down` removes it. Do not edit: re-run lab up.\n"
# Windows seats the lab carries for planning: never contacted (Windows cannot run here)
DIST_PATH, DIST_PORT = "/srv/ccops-dist", 8080  # the lab point's folder and web server port
PLANNED_WINDOWS = [("lab-win11-[01:02]", "win11", "agent_desktop"), ("lab-w22-01", "winserver2022", "crm_server")]


def lab_site(hosts: list[LabHost], lab_dir: Path) -> dict[str, Any]:
    groups: list[dict[str, Any]] = []
    for variant in sorted({h.variant for h in hosts}):
        groups.append(
            {
                "name": f"agents-{variant}",
                "role": "agent_desktop",
                "os": variant,
                "business_line": "voice",
                "connection": "lab-ssh",
                "hosts": [h.name for h in hosts if h.variant == variant],
            }
        )
    for i, (pattern, variant, role) in enumerate(PLANNED_WINDOWS):
        groups.append(
            {
                "name": f"planned-{variant}",
                "role": role,
                "os": variant,
                "business_line": "voice",
                "connection": "lab-winrm",
                "hosts": pattern,
                "addresses": f"127.0.2.{10 * (i + 1)}",
                "lifecycle": "planned",
                # the site's lab card is a Linux script: a Windows seat may only have none, uwf or deepfreeze
                "vars": {"patch_restore_card": "none"},
            }
        )
    return {
        "site": {
            "code": "lab",
            "name": "ccops lab on this machine",
            "city": "localhost",
            "timezone": "UTC",
            "maintenance_windows": [{"days": list(DAYS), "start": "00:00", "end": "00:00"}],
            "backup_target": {"host": "localhost", "path": str(lab_dir / "backups")},
            **_distribution_point(hosts),
            "rollout": {"canary": 1, "waves": ["50%", "100%"], "batch_size": 2, "max_fail_percentage": 0},
            # a seat is busy while this flag exists on it (tests flip it)
            "busy_check": {"command": ["test", "!", "-e", "/run/ccops-lab-seat-busy"]},
        },
        "vars": {
            "patch_restore_card": "lab",
            "patch_health_commands": [["/usr/local/bin/ccops-lab-health"]],
            "backup_paths": ["/etc/ccops-lab"],
            # the point serves its folder with the small web server ccops installs (roles/distribution_point)
            "distribution_point_serve": True,
        },
        "connections": {
            "lab-ssh": {
                "type": "ssh",
                "user": "ccops",
                "key_file": str(lab_dir / "id_ed25519"),
                "known_hosts": str(lab_dir / "known_hosts"),
                "become": True,
                "become_password": {"file": str(lab_dir / "become_password")},
            },
            "lab-winrm": {
                "type": "winrm",
                "port": 5986,
                "transport": "ntlm",
                "cert_validation": "ignore",
                "user": "lab-admin",
                "password": {"env": "CCOPS_LAB_WINRM_PASSWORD"},
            },
        },
        "groups": groups,
        "hosts": {h.name: {"address": h.address} for h in hosts},
    }


def _distribution_point(hosts: list[LabHost]) -> dict[str, Any]:
    """The site's distribution point: its first lab host, serving over the lab network (hosts reach it there)."""
    if not hosts:
        return {}
    point = min(hosts, key=lambda h: h.name)
    return {"distribution_point": {"host": point.name, "path": DIST_PATH, "url": f"http://{point.address}:{DIST_PORT}"}}


def write_lab_inventory(folder: Path, hosts: list[LabHost], lab_dir: Path) -> None:
    (folder / "sites").mkdir(parents=True, exist_ok=True)
    _atomic_write(folder / "ccops.yml", HEADER + "plugin: ccops\nsites: sites\n")
    _atomic_write(
        folder / "sites" / "lab.yml", HEADER + yaml.safe_dump(lab_site(hosts, lab_dir), sort_keys=False, width=100)
    )


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    Path(tmp).replace(path)
