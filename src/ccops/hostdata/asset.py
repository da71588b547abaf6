"""The asset report (``ccops inspect``; a deploy's converge ends with it) and its stored summary.

Debian: roles/asset/tasks/inspect_debian.yml with files/debian_inventory.py; Windows:
inspect_windows.yml (volumes as disks, registry entries as packages). The enrichment ccops adds
when it stores a version (``patch_level``, ``compliance``) is declared too, so a record stored
in an older shape reads through the same schema.
"""

from __future__ import annotations

from ccops.hostdata.kinds import Bool, Free, Int, ListOf, MapOf, Num, Record, Text

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
    "image": Free(depth=3, max_items=100, max_len=512),  # the golden image stamp; deploy: the image it wrote
    "collected_at": WHEN,
    "phase": Text(64),  # deploy's report carries the asset report of the machine it converged
    "restored": RESTORED,  # a rebuild's converge: the declared paths put back from its verified backup
    "patch_level": PATCH_LEVEL,
    "compliance": COMPLIANCE,
    "damaged": DAMAGE,
}
ASSET = Record(FIELDS)

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
        "damaged": Free(depth=1, max_items=100, max_len=512),  # True (unreadable) or the record's damage notes
        "run_id": Text(64),
    }
)
