"""The asset report (``ccops inspect``; a deploy's converge ends with it) and its stored summary.

Debian: roles/asset/tasks/inspect_debian.yml with files/debian_inventory.py; Windows:
inspect_windows.yml (volumes as disks, registry entries as packages). The enrichment ccops adds
when it stores a version (``patch_level``, ``compliance``) is declared too, so a record stored
in an older shape reads through the same schema.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from ccops.hostdata.kinds import At, Bool, Free, Int, Kind, ListOf, MapOf, Notes, Num, Record, Text, what
from ccops.hostdata.neighbours import MAX_STORED, NEIGHBOURS

NAME = Text(256)
NAME_OR_NULL = Text(256, nullable=True)
MB = Int(0, 2**50)
WHEN = Text(64, nullable=True)

OS = Record(
    {
        "variant": NAME,
        "family": NAME,
        "distribution": NAME,
        "version": NAME,
        "codename": NAME,
        "kernel": NAME,
    }
)
HARDWARE = Record(
    {
        "vendor": NAME,
        "product": NAME,
        "cpus": Int(0, 100_000),
        "memory_mb": MB,
        "virtualization": NAME,
    }
)
PACKAGES = Record({"count": Int(0, 10_000_000), "items": MapOf(Text(256), max_items=50_000)})
UNCHANGED = "unchanged: "
UNREADABLE_CLAIM = UNCHANGED + "?"  # matches no digest
_UNCHANGED = re.compile(r"unchanged: [0-9a-f]{64}")


def package_digest(items: dict[str, Any]) -> str:
    """The digest of a package set (name -> version), computed the same way by the asset module on the host."""
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


class PackagesOrUnchanged(Kind):
    """What a host sends as its packages: the whole set, or ``unchanged: <digest>`` of the set ccops stored.

    The claim is kept as the text it was (checked against the store before saving, ``fill_unchanged``);
    any other text, or anything else, is noted and kept as a claim that matches no set.
    """

    def empty(self) -> dict[str, Any]:
        return {}

    def parse(self, value: Any, path: At, notes: Notes) -> Any:
        if isinstance(value, dict):
            return PACKAGES.parse(value, path, notes)
        if isinstance(value, str) and _UNCHANGED.fullmatch(value):
            return value
        # a claim that cannot be read is one that does not hold: the stored set is kept, nothing saved over it
        notes.add(path, f"expected the package set or 'unchanged: <sha256>', got {what(value)}")
        return UNREADABLE_CLAIM


UPDATE = Record(
    {
        "name": NAME,
        "from": NAME_OR_NULL,
        "to": NAME_OR_NULL,
        "origin": Text(512, nullable=True),
        "security": Bool(),
    }
)
UPDATES = Record(
    {
        "pending": Int(0, 1_000_000),
        "security": Int(0, 1_000_000),
        "items": ListOf(UPDATE, 20_000),
        "lists_refreshed": Bool(),
    }
)
DISK = Record({"mount": Text(1024), "size_mb": MB, "free_mb": MB, "used_pct": Num(0, 100)})
SERVICE = Record({"name": NAME, "state": Text(64), "status": Text(64), "source": Text(64), "start_mode": Text(64)})
SECURITY_ITEM = Record({"name": NAME, "to": NAME_OR_NULL, "since": WHEN})
PATCH_LEVEL = Record(
    {
        "pending": Int(0, 1_000_000),
        "security": Int(0, 1_000_000),
        "security_items": ListOf(SECURITY_ITEM, 20_000),
        "security_since": WHEN,
    }
)
# readers index both: a deviation names its policy, and says nothing rather than no detail
DEVIATION = Record({"policy": Text(128), "detail": Text(2048)}, required=("policy",), defaults={"detail": ""})
COMPLIANCE = Record({"run_id": Text(64), "checked": Text(64), "deviations": ListOf(DEVIATION, 1000)}, nullable=True)
DAMAGE = ListOf(Text(512), 100)
# roles/deploy/tasks/restore_debian.yml deploy_restored
RESTORED = Record({"backup": Text(256), "sha256": Text(128), "paths": ListOf(Text(4096), 10_000)})

FIELDS = {
    "outcome": Text(64),
    "reason": Text(2048),
    "os": OS,
    "hardware": HARDWARE,
    "uptime_seconds": Int(0, 2**40, nullable=True),
    "packages": PACKAGES,
    "updates": UPDATES,
    "disks": ListOf(DISK, 1000),
    "services": ListOf(SERVICE, 1000),
    "logs": ListOf(Text(2048), 1000),
    "neighbours": NEIGHBOURS,  # who answered in the host's neighbour table, addresses only (ccops.report.unknown)
    "image": Free(depth=3, max_items=100, max_len=512),  # the golden image stamp; deploy: the image it wrote
    "collected_at": WHEN,
    "phase": Text(64),  # deploy's report carries the asset report of the machine it converged
    "restored": RESTORED,  # a rebuild's converge: the declared paths put back from its verified backup
    "patch_level": PATCH_LEVEL,
    "compliance": COMPLIANCE,
    "damaged": DAMAGE,
}
ASSET = Record(FIELDS)
# what a host sends (ccops inspect): its packages may be the claim that they did not change
REPORTED_ASSET = Record({**FIELDS, "packages": PackagesOrUnchanged()})

SUMMARY = Record(
    {
        "collected": Text(64),
        "uptime_seconds": Int(0, 2**40, nullable=True),
        "packages": Int(0, 10_000_000, nullable=True),
        "pending": Int(0, 1_000_000, nullable=True),
        "security": Int(0, 1_000_000, nullable=True),
        "security_since": WHEN,
        "security_names": ListOf(NAME_OR_NULL, 100),
        "security_pending_since": MapOf(Text(64), max_items=20_000),
        "disks": ListOf(
            Record(
                {
                    "mount": Text(1024, nullable=True),
                    "size_mb": Int(0, 2**50, nullable=True),
                    "free_mb": Int(0, 2**50, nullable=True),
                    "used_pct": Num(0, 100, nullable=True),
                }
            ),
            1000,
        ),
        "services": ListOf(
            Record({"name": NAME_OR_NULL, "state": Text(64, nullable=True), "status": Text(64, nullable=True)}), 1000
        ),
        "neighbours": ListOf(Text(64), MAX_STORED),  # addresses its neighbour table said answered
        "damaged": Free(depth=1, max_items=100, max_len=512),  # True (unreadable) or the record's damage notes
        "run_id": Text(64),
    }
)


Stored = Callable[[str], "dict[str, Any] | None"]  # host -> its stored asset record (declared shape), or None
NOT_STORED_SET = "packages: said unchanged, but its digest is not the one of the package set stored for this host"


def known_packages(hosts: list[str], stored: Stored) -> dict[str, str]:
    """Host -> digest of the package set ccops stored for it, for hosts that have one (the asset role's input)."""
    known = {}
    for host in hosts:
        items = _stored_items(stored(host))
        if items is not None:
            known[host] = package_digest(items)
    return known


def fill_unchanged(reports: dict[str, dict[str, Any]], damaged: dict[str, list[str]], stored: Stored) -> None:
    """Put the stored package set in place of each ``unchanged: <digest>`` claim that matches it.

    A claim whose digest is not the stored set's (another host's, a made-up one, a host with
    nothing stored) is never trusted: the report is marked damaged, loses the claim, and is not
    saved as the host's asset record.
    """
    for host, report in reports.items():
        claim = report.get("packages")
        if not isinstance(claim, str):
            continue
        items = _stored_items(stored(host))
        if items is not None and claim == UNCHANGED + package_digest(items):
            report["packages"] = {"count": len(items), "items": items}
            continue
        del report["packages"]
        report["outcome"] = "damaged"
        report["damaged"] = [*report.get("damaged", []), NOT_STORED_SET]
        damaged[host] = [*damaged.get(host, []), NOT_STORED_SET]


def _stored_items(record: dict[str, Any] | None) -> dict[str, Any] | None:
    packages = record.get("packages") if isinstance(record, dict) else None
    items = packages.get("items") if isinstance(packages, dict) else None
    return items if isinstance(items, dict) else None
