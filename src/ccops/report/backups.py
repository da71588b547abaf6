"""Backups at each site's backup target, checked against the run records.

The target is a folder on the controller (``backup_target.path``; at a real
site, the backup server's share mounted on the jump host). Each backup is
``<path>/<host>/<backup id>/`` with ``archive.*`` and ``manifest.json``.

Whoever can write the share can rewrite both the archive and its manifest, so
neither vouches for itself: what the backup tasks reported at the end of each
patch (sha256, size, host, machine identity) is kept in the run record, and a
backup is only trusted when the share agrees with that record.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Protocol

from ccops.checksums import sha256_file
from ccops.errors import CcopsError, UsageError
from ccops.inventory.model import Inventory

# the fields a manifest must share with the run record for a backup to be trusted
RECORDED_FIELDS = ("id", "host", "phase", "run_id", "sha256", "size", "paths", "machine_id")
_PATTERN_CHARS = set("*?[]")
_RUN_ID = re.compile(r"^(\d{8}T\d{6}Z-[0-9a-f]+)-")
_BACKUP_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MACHINE_ID = re.compile(r"^[0-9A-Za-z{}-]{8,64}$")  # /etc/machine-id or a Windows MachineGuid


class RunRecords(Protocol):
    """The part of ccops.store.records.Store this module reads."""

    def run(self, run_id: str) -> Any: ...


def exact_host(inventory: Inventory, host: str) -> str:
    """HOST arguments name one host exactly: no pattern, no prefix."""
    if not host.strip():
        raise CcopsError("HOST is empty: name one host exactly")
    if _PATTERN_CHARS & set(host):
        raise CcopsError(
            f"HOST {host!r} is a pattern; name one host exactly "
            f"(matches: {', '.join(_matching(inventory, host)) or 'none'})"
        )
    if host not in inventory.hosts:
        raise UsageError(f"no host {host!r} in the inventory; see ccops inventory list")
    return host


def _matching(inventory: Inventory, pattern: str) -> list[str]:
    from fnmatch import fnmatchcase

    return sorted(n for n in inventory.hosts if fnmatchcase(n, pattern))[:10]


def list_backups(
    inventory: Inventory, host: str | None = None, records: RunRecords | None = None
) -> list[dict[str, Any]]:
    """Every backup at the targets (or one host's), oldest first, each checked against the records."""
    out = []
    for site in inventory.sites.values():
        root = site.backup_target.get("path")
        if not root:
            continue
        folders = [Path(root) / host] if host else [p for p in Path(root).glob("*") if p.is_dir()]
        for folder in folders:
            for manifest in sorted(folder.glob("*/manifest.json")):
                data = _read_manifest(manifest)
                data["site"] = site.code
                data["location"] = str(manifest.parent)
                out.append(data)
    out.sort(key=lambda b: (str(b.get("host", "")), str(b.get("created", ""))))
    if records is not None:
        _check_against(records, out)
    return out


def _read_manifest(manifest: Path) -> dict[str, Any]:
    from ccops.hostdata import read_manifest

    try:
        data = read_manifest(manifest.read_text(errors="replace"))  # the host wrote it: parsed, never trusted
    except OSError:
        data = {"verified": False, "problem": "manifest unreadable"}
    # the folder names are what rollback uses: a manifest cannot move a backup elsewhere
    return {**data, "id": manifest.parent.name, "host": manifest.parent.parent.name}


def recorded_backup(records: RunRecords, host: str, backup_id: str) -> dict[str, Any] | None:
    """What the run (patch, decommission) that made ``backup_id`` reported about it, or None."""
    match = _RUN_ID.match(backup_id)
    if match is None:
        return None
    record = records.run(match.group(1))
    if record is None or record.id != match.group(1):  # Store.run also answers a prefix
        return None
    for result in record.hosts:
        report = result.get("report") if result.get("host") == host else None
        for key in ("backup_before", "backup_after", "final_backup"):  # final: decommission
            backup = report.get(key) if isinstance(report, dict) else None
            if isinstance(backup, dict) and backup.get("id") == backup_id:
                return backup
    return None


def _check_against(records: RunRecords, backups: list[dict[str, Any]]) -> None:
    """Mark each backup: recorded or not, manifest agreeing or not, and from which machine."""
    newest_machine: dict[str, str] = {}
    for backup in backups:
        recorded = recorded_backup(records, backup["host"], backup["id"])
        backup["recorded"] = recorded is not None
        backup["differs"] = _differences(backup, recorded) if recorded else []
        backup["machine_id"] = (recorded or {}).get("machine_id") or None
        if backup["machine_id"] and not backup["differs"]:
            newest_machine[backup["host"]] = backup["machine_id"]  # oldest first: the last one wins
    for backup in backups:
        current = newest_machine.get(backup["host"])
        backup["other_machine"] = bool(current and backup["machine_id"] and backup["machine_id"] != current)


def _differences(manifest: dict[str, Any], recorded: dict[str, Any]) -> list[str]:
    return [f for f in RECORDED_FIELDS if str(manifest.get(f, "")) != str(recorded.get(f, ""))]


def find_backup(inventory: Inventory, host: str, backup_id: str) -> dict[str, Any]:
    """One backup of ``host`` by its exact id or a unique prefix of it."""
    if not backup_id.strip():
        raise CcopsError(f"the backup id is empty; choose one of: {_candidates(inventory, host)}")
    if _PATTERN_CHARS & set(backup_id):
        raise CcopsError(
            f"backup id {backup_id!r} is a pattern; give an id or a unique prefix of one: "
            f"{_candidates(inventory, host)}"
        )
    found = list_backups(inventory, host)
    exact = [b for b in found if b["id"] == backup_id]
    if exact:
        return exact[0]
    matches = [b for b in found if b["id"].startswith(backup_id)]
    if len(matches) > 1:
        raise CcopsError(f"backup id {backup_id!r} is ambiguous: {', '.join(b['id'] for b in matches)}")
    if not matches:
        raise UsageError(f"no backup {backup_id!r} of {host}; see ccops backups list {host}")
    return matches[0]


def _candidates(inventory: Inventory, host: str) -> str:
    ids = [b["id"] for b in list_backups(inventory, host)]
    return ", ".join(ids) if ids else f"none (ccops backups list {host})"


def verified_backup(records: RunRecords, backup: dict[str, Any]) -> dict[str, Any]:
    """The recorded facts of ``backup`` once the share agrees with them; refuses otherwise."""
    host, ident = backup["host"], backup["id"]
    recorded = recorded_backup(records, host, ident) if _BACKUP_ID.match(ident) else None
    if recorded is None:
        raise CcopsError(
            f"backup {ident} of {host} is not in this controller's run records; "
            "its integrity cannot be checked, so it is not restored"
        )
    differs = _differences(backup, recorded)
    if differs:
        raise CcopsError(
            f"backup {ident} of {host}: manifest.json differs from the run record "
            f"({', '.join(differs)}); refusing to restore a tampered backup"
        )
    if not _SHA256.match(str(recorded.get("sha256", ""))):
        raise CcopsError(f"backup {ident} of {host} has no usable checksum in its run record")
    if not _MACHINE_ID.match(str(recorded.get("machine_id") or "")):
        raise CcopsError(
            f"backup {ident} of {host} was recorded without the machine's identity "
            "(made by an older ccops); it cannot be shown to belong to this machine"
        )
    archive = _archive(Path(backup["location"]))
    if archive is None or sha256_file(archive) != recorded["sha256"]:
        raise CcopsError(
            f"backup {ident} of {host}: the archive does not match the sha256 in its run record; "
            "refusing to restore a tampered backup"
        )
    return recorded


def _archive(folder: Path) -> Path | None:
    found = sorted(folder.glob("archive.*"))
    return found[0] if len(found) == 1 and found[0].is_file() else None
