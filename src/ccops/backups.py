"""Backups as they exist at each site's backup target: the manifests are the truth.

The target is a folder on the controller (``backup_target.path``; at a real
site, the backup server's share mounted on the jump host). Each backup is
``<path>/<host>/<backup id>/`` with ``archive.*`` and ``manifest.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ccops.errors import CcopsError
from ccops.inventory.model import Inventory


def list_backups(inventory: Inventory, host: str | None = None) -> list[dict]:
    out = []
    for site in inventory.sites.values():
        root = site.backup_target.get("path")
        if not root:
            continue
        pattern = f"{host or '*'}/*/manifest.json"
        for manifest in Path(root).glob(pattern):
            try:
                data = json.loads(manifest.read_text())
            except (OSError, ValueError):
                data = {"id": manifest.parent.name, "host": manifest.parent.parent.name, "verified": False}
            data["site"] = site.code
            data["location"] = str(manifest.parent)
            out.append(data)
    return sorted(out, key=lambda b: (b.get("host", ""), b.get("created", "")))


def find_backup(inventory: Inventory, host: str, backup_id: str) -> dict:
    for backup in list_backups(inventory, host):
        if backup.get("id") == backup_id or str(backup.get("id", "")).startswith(backup_id):
            return backup
    raise CcopsError(f"no backup {backup_id!r} of {host}; see ccops backups list {host}")
