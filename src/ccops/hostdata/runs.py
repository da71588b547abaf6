"""What hosts hand back from the changing verbs: comply, patch, software, decommission, deploy.

Every report has ``outcome`` and ``reason`` (docs/development/adding-a-verb.md, "What roles hand
back"); the fields ccops reads are declared with their kinds; a field no reader interprets is kept as bounded free-form
evidence (``Free``) so a certificate or a run record still shows what the host said.
"""

from __future__ import annotations

from ccops.hostdata.asset import DAMAGE, DEVIATION
from ccops.hostdata.kinds import Bool, Free, Int, Kind, ListOf, MapOf, Record, Text

EVIDENCE = Free(max_items=10_000)
BASE: dict[str, Kind] = {"outcome": Text(64), "reason": Text(2048), "damaged": DAMAGE}

# roles/comply/library/ccops_comply_state.py: deviations and fixes are {policy, detail}
COMPLY = Record(
    {
        **BASE,
        "deviations": ListOf(DEVIATION, 1000),
        "fixed": ListOf(DEVIATION, 1000),
        "policies": ListOf(Text(128), 200),
    },
    extra=EVIDENCE,
)

# roles/backup/vars/main.yml backup_manifest ({} when no backup was taken)
BACKUP = Record(
    {
        "id": Text(256),
        "sha256": Text(128),
        "size": Int(0, 2**62),
        "verified": Bool(),
        "machine_id": Text(256, nullable=True),
        "paths": ListOf(Text(4096), 10_000),
    },
    extra=EVIDENCE,
    nullable=True,
)
# roles/backup/vars/main.yml backup_manifest as the share keeps it (manifest.json): the host wrote it
MANIFEST = Record(
    {
        **BACKUP.fields,
        "host": Text(256),
        "phase": Text(64),
        "run_id": Text(64),
        "change_id": Text(256, nullable=True),
        "created": Text(64),
    },
    extra=EVIDENCE,
)
HEALTH = Record({"ok": Bool(), "problems": ListOf(Text(1024), 200)}, extra=EVIDENCE, nullable=True)
# roles/backup restore_*.yml backup_restored: what a rollback put back (a backup's member list can be long)
ROLLBACK = Record(
    {
        "id": Text(256),
        "packages_returned": ListOf(Free(depth=3), 100_000),
        "packages_removed": ListOf(Free(depth=3), 100_000),
        "not_removed": ListOf(Free(depth=3), 100_000),
        "paths": ListOf(Text(4096), 1_000_000),
        "rebooted": Bool(nullable=True),
    },
    extra=EVIDENCE,
    nullable=True,
)
VERSIONS = MapOf(Text(256, nullable=True), max_items=50_000, max_key=1024)  # Windows: update title -> KBs

PATCH = Record(
    {
        **BASE,
        "pending": ListOf(Text(1024), 20_000),  # the updates selected (Debian names, Windows titles)
        "versions_before": VERSIONS,
        "versions_after": VERSIONS,
        "backup_before": BACKUP,
        "backup_after": BACKUP,
        "rebooted": Bool(nullable=True),
        "health": HEALTH,
        "health_after_rollback": HEALTH,
        "rebaseline": Text(64, nullable=True),
        "rollback": ROLLBACK,
        # roles/patch/tasks/changes_debian.yml: name -> "old -> new" / version, or why it is unknown
        "packages_changed": Record(
            {
                "changed": MapOf(Text(1024), max_items=50_000),
                "added": MapOf(Text(256), max_items=50_000),
                "removed": MapOf(Text(256), max_items=50_000),
                "error": Text(1024),
            },
            nullable=True,
        ),
    },
    extra=EVIDENCE,
)

# roles/software: the changes a run makes, {app, action, from, to}
CHANGE = Record(
    {"app": Text(128), "action": Text(32), "from": Text(256, nullable=True), "to": Text(256, nullable=True)}
)
SOFTWARE = Record(
    {
        **BASE,
        "changes": ListOf(CHANGE, 1000),
        "backup_before": BACKUP,
        "health": HEALTH,
        "health_after_rollback": HEALTH,
        "rollback": ROLLBACK,
        "rebaseline": Text(64, nullable=True),
    },
    extra=EVIDENCE,
)

# roles/decommission/files/sanitise.py: one entry per declared path
SANITISED = Record(
    {
        "path": Text(4096),
        "method": Text(128),
        "files": Int(0, 2**53),
        "bytes": Int(0, 2**62),
        "verification": Text(2048),
        "result": Text(64),
    }
)
DECOMMISSION = Record(
    {
        **BASE,
        "machine_id": Text(256, nullable=True),
        "final_backup": BACKUP,
        "final_backup_reused": Bool(nullable=True),
        "revoked": MapOf(Free(depth=4, max_items=1000, max_len=4096), max_items=50, nullable=True),
        "sanitised": ListOf(SANITISED, 1000, nullable=True),
        "restore_card": Record({"type": Text(64), "action": Text(256)}, extra=EVIDENCE, nullable=True),
        "end_state": Text(64, nullable=True),
        "inventory": Text(4096, nullable=True),
    },
    extra=EVIDENCE,
)

# any other verb (content, stage, rollback, a pre-check's refusal): outcome, reason, evidence
GENERIC = Record(BASE, extra=EVIDENCE)

# the certificate ccops builds from a decommissioned host's report (certificate.build_certificate)
CERTIFICATE = Record(
    {
        **{k: Text(256, nullable=True) for k in ("certificate", "host", "site", "role", "os", "asset_tag")},
        **{k: Text(256, nullable=True) for k in ("run_id", "change_id", "operator", "issued")},
        "version": Int(0, 1000),
        **{k: v for k, v in DECOMMISSION.fields.items() if k not in ("outcome", "reason")},
    }
)

# the deploy playbook's backup stage (playbooks/deploy.yml)
# image/deploy.py reads report["backup"] and, when verified, its id: a backup named by nothing is unfit
DEPLOY_BACKUP = Record(
    {**BASE, "phase": Text(64), "backup": Record(BACKUP.fields, extra=EVIDENCE, required=("id",))},
    extra=EVIDENCE,
    required=("backup",),
)

# roles/content: the simulation's Inst lines, and the signed index entries of what was downloaded
LISTED = Record(
    {
        **BASE,
        "release": Text(64),
        "arch": Text(64),
        "inst": ListOf(Text(2048), 100_000),
        "prerequisite": ListOf(Text(2048), 100_000),
    },
    extra=EVIDENCE,
)
DOWNLOADED = Record({**BASE, "index": Text(256 * 2**20)}, extra=EVIDENCE)

# roles/distribution_point: files sent, kept and refused on arrival (relative paths)
STAGED = Record(
    {**BASE, **{k: ListOf(Text(4096), 100_000) for k in ("sent", "kept", "refused")}},
    extra=EVIDENCE,
)
