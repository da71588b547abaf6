"""Snapshot manifests, kept on the controller: what a snapshot holds, and who approved it when.

One JSON file per snapshot under ``$CCOPS_HOME/content/<inventory>/snapshots``
(0600): its id and site, per release the exact ``package=version`` list and the
sha256 of every file placed on the site's distribution point, per host what it
needed when the snapshot was taken, and the approval (change id, operator,
time). The point serves the snapshot; this manifest decides what may install.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ccops.errors import CcopsError, UsageError
from ccops.inventory.model import Inventory
from ccops.paths import private_dir, state_dir

SNAPSHOT_ID = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")


def content_dir(inventory: Inventory, create: bool = True) -> Path:
    ident = hashlib.sha256(str(inventory.root).encode()).hexdigest()[:16]
    path = state_dir() / "content" / ident
    return private_dir(path) if create else path


def new_snapshot_id(now: datetime | None = None) -> str:
    return f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def point_prefix(snapshot_id: str) -> str:
    """Where a snapshot's repository lives under the point's path (and URL)."""
    return f"content/{snapshot_id}/debian"


@dataclass(frozen=True)
class Approval:
    how: str  # "change" (ccops content approve), "age" (the site's approve_after_days), "" (not approved)
    detail: str


def _manifest_path(inventory: Inventory, snapshot_id: str, create: bool = True) -> Path:
    return content_dir(inventory, create) / "snapshots" / f"{snapshot_id}.json"


def save(inventory: Inventory, manifest: dict[str, Any]) -> Path:
    path = _manifest_path(inventory, manifest["id"])
    private_dir(path.parent)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
    tmp.replace(path)
    return path


def load(inventory: Inventory, snapshot_id: str) -> dict[str, Any]:
    if not SNAPSHOT_ID.fullmatch(snapshot_id):
        raise UsageError(f"{snapshot_id[:40]!r} is not a snapshot id (see: ccops content list)")
    path = _manifest_path(inventory, snapshot_id, create=False)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"no snapshot {snapshot_id} for this inventory (see: ccops content list)") from None
    except (OSError, ValueError) as exc:
        raise CcopsError(f"{path}: unreadable snapshot manifest: {exc}") from None
    if not isinstance(data, dict) or data.get("id") != snapshot_id:
        raise CcopsError(f"{path}: not the manifest of snapshot {snapshot_id}")
    return data


def all_snapshots(inventory: Inventory) -> list[dict[str, Any]]:
    folder = content_dir(inventory, create=False) / "snapshots"
    ids = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
    return [load(inventory, i) for i in ids if SNAPSHOT_ID.fullmatch(i)]


def approval(manifest: dict[str, Any], approve_after_days: int | None, now: datetime | None = None) -> Approval:
    """Approved by a change (recorded), or by age under the site's rule; only a staged snapshot counts."""
    if not manifest.get("staged"):
        return Approval("", "not staged on the point")
    record = manifest.get("approval")
    if record:
        return Approval("change", f"{record['change_id']} by {record['by']} at {record['at']}")
    if approve_after_days is not None:
        due = datetime.fromisoformat(manifest["created"]) + timedelta(days=approve_after_days)
        if (now or datetime.now(UTC)) >= due:
            rule = f"the site's approve_after_days ({approve_after_days})"
            return Approval("age", f"by age under {rule} since {due:%Y-%m-%d}")
        return Approval("", f"not approved (approved by age on {due:%Y-%m-%d %H:%M} UTC)")
    return Approval("", "not approved")


def approve(inventory: Inventory, snapshot_id: str, change_id: str, by: str) -> dict[str, Any]:
    manifest = load(inventory, snapshot_id)
    if not manifest.get("staged"):
        raise CcopsError(f"snapshot {snapshot_id} was never staged verified on its point; take a new one")
    if manifest.get("approval"):
        record = manifest["approval"]
        raise CcopsError(f"snapshot {snapshot_id} is already approved ({record['change_id']} by {record['by']})")
    manifest["approval"] = {"change_id": change_id, "by": by, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    save(inventory, manifest)
    return manifest
