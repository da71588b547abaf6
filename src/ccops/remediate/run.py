"""One remediation: choose, build and stage the subset snapshot, approve it, patch in waves, re-inspect, judge.

The patch is the patch verb itself (run_verb "patch" with --snapshot: its backups, restore-card
re-baseline, health checks and rollback); the inspection is the inspect verb. One subset snapshot
and one patch run per site (a snapshot belongs to one site).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccops.content.repository import build_snapshot_repository
from ccops.content.snapshot import stage_built
from ccops.content.snapshots import all_snapshots, content_dir, load, new_snapshot_id, save
from ccops.errors import EXIT_HOSTS_FAILED, EXIT_OK, EXIT_REFUSED
from ccops.inventory.load import load_inventory
from ccops.inventory.select import Selector, select
from ccops.remediate.approval import approval_record, rule_approval
from ccops.remediate.subset import choose_subset, subset_manifest
from ccops.remediate.targets import Target, choose
from ccops.remediate.verdict import FIXED, Outcome, judge
from ccops.run import RunRequest, open_store, operator, run_verb
from ccops.run.prepare import refuse_offline
from ccops.runner.progress import Progress
from ccops.software.points import ensure_key
from ccops.verbs import REBOOT_VAR
from ccops.vulns.fleet import FACT_KEYS, fleet_rows, host_facts
from ccops.vulns.snapshot_logs import snapshot_logs

PATCHED_OK = ("ok", "changed")


@dataclass
class Remediation:
    change_id: str
    cves: list[str]
    urgencies: list[str]
    status: str = "dry_run"  # dry_run, nothing_to_fix, not_approved, fixed, partly_fixed, failed
    exit_code: int = EXIT_OK
    targets: list[Target] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)  # per site: id, parent, packages, approval
    runs: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    unheld: list[dict[str, Any]] = field(default_factory=list)  # fixable by the tracker, in no snapshot

    def as_dict(self) -> dict[str, Any]:
        return {
            "change_id": self.change_id,
            "cves": self.cves,
            "urgencies": self.urgencies,
            "status": self.status,
            "exit_code": self.exit_code,
            "targets": [vars(t) for t in self.targets],
            "snapshots": self.snapshots,
            "runs": self.runs,
            "results": [o.as_dict() for o in self.outcomes],
            "not_in_a_snapshot": self.unheld,
        }


def remediate(
    inventory_path: Path,
    selector: Selector,
    cves: tuple[str, ...],
    urgencies: tuple[str, ...],
    change_id: str,
    *,
    approve: bool = False,
    dry_run: bool = False,
    batch_size: int | None = None,
    progress: Progress | None = None,
    rule_only: bool = False,
    emergency: bool = False,
    schedule: dict[str, Any] | None = None,
) -> Remediation:
    """rule_only: a site whose rule does not approve its fixes gets no snapshot at all (unattended firings);
    schedule: the firing's record, carried by the patch and inspect runs."""
    inventory = load_inventory(inventory_path)
    hosts = select(inventory, selector).hosts
    rows, _never = fleet_rows(inventory, open_store(), hosts)
    targets, unheld = choose(rows, cves, urgencies)
    result = Remediation(change_id, list(cves), list(urgencies), targets=targets, unheld=[r.as_dict() for r in unheld])
    if not targets:
        result.status = "nothing_to_fix"
        return result
    if dry_run:
        return result
    refuse_offline(inventory)
    now = datetime.now(UTC)
    by_site: dict[str, list[Target]] = {}
    for target in targets:
        by_site.setdefault(target.site, []).append(target)
    skipped: dict[str, str] = {}
    patched: dict[str, str] = {}
    content = content_dir(inventory)
    for site, mine in sorted(by_site.items()):
        parent = max({t.snapshot for t in mine})  # ids sort by time: the newest snapshot holding a fix
        for t in mine:
            if t.snapshot != parent:
                skipped[t.host] = f"its fix is in the older snapshot {t.snapshot}: remediate it in another run"
        chosen = [t for t in mine if t.snapshot == parent]
        rule = rule_approval(inventory.sites[site].remediate if site in inventory.sites else {}, chosen, now)
        if rule_only and not rule:
            skipped |= {t.host: f"site {site}'s remediate.auto_approve rule does not approve it" for t in chosen}
            continue
        manifest = _build(
            inventory_path, inventory, content, load(inventory, parent), chosen, change_id, progress, result
        )
        if not manifest.get("approval") and (approve or rule):
            manifest["approval"] = approval_record(change_id, operator(), now, None if approve else rule)
            save(inventory, manifest)
        result.snapshots.append(
            {
                "site": site,
                "snapshot": manifest["id"],
                "parent": parent,
                "packages": manifest["releases"],
                "approval": manifest["approval"],
            }
        )
        if not manifest["approval"]:
            for t in chosen:
                skipped[t.host] = f"snapshot {manifest['id']} is not approved (--approve, or a site rule)"
            continue
        patch = run_verb(
            RunRequest(
                inventory_path,
                "patch",
                Selector(limit=tuple(sorted({t.host for t in chosen}))),
                change_id=change_id,
                batch_size=batch_size,
                emergency=emergency,
                options={"content_snapshot": manifest["id"], REBOOT_VAR: "if_required"},
                schedule=schedule,
            ),
            progress,
        )
        result.runs.append(patch.run_id)
        patched |= {o.host: o.outcome for o in patch.hosts}
    inspected = _inspect(inventory_path, inventory, sorted(patched), change_id, progress, result, schedule)
    result.outcomes = judge(targets, inspected, patched, skipped)
    _conclude(result)
    return result


def _build(
    inventory_path: Path,
    inventory: Any,
    content: Path,
    parent: dict[str, Any],
    targets: list[Target],
    change_id: str,
    progress: Progress | None,
    result: Remediation,
) -> dict[str, Any]:
    site = parent["site"]
    tree = content / "points" / site
    subset = choose_subset(parent, snapshot_logs(content, parent), targets, tree)
    for known in all_snapshots(inventory):  # the same fix staged before (and perhaps approved since): reuse it
        same = {r: e.get("packages") for r, e in (known.get("releases") or {}).items()} == subset.packages
        if same and known.get("staged") and (known.get("remediate") or {}).get("parent") == parent["id"]:
            return known
    snapshot_id = new_snapshot_id()
    files = build_snapshot_repository(tree, snapshot_id, subset.debs, subset.arches, ensure_key(inventory))
    manifest = subset_manifest(parent, subset, snapshot_id, files, targets, change_id, operator())
    result.runs += stage_built(inventory_path, inventory, manifest, files, change_id, progress)
    return manifest


def _inspect(
    inventory_path: Path,
    inventory: Any,
    hosts: list[str],
    change_id: str,
    progress: Progress | None,
    result: Remediation,
    schedule: dict[str, Any] | None,
) -> dict[str, dict[str, str]]:
    """host -> installed packages, from this inspection only (an older record proves nothing)."""
    if not hosts:
        return {}
    request = RunRequest(
        inventory_path, "inspect", Selector(limit=tuple(hosts)), change_id=change_id, schedule=schedule
    )
    run = run_verb(request, progress)
    result.runs.append(run.run_id)
    out = {}
    for name, asset in open_store().assets([h for h in hosts if h in inventory.hosts], keys=FACT_KEYS).items():
        if asset.get("run_id") == run.run_id and (facts := host_facts(inventory.hosts[name], asset)) is not None:
            out[name] = facts.installed
    return out


def _conclude(result: Remediation) -> None:
    states = {o.state for o in result.outcomes}
    if states == {FIXED}:
        result.status, result.exit_code = "fixed", EXIT_OK
    elif FIXED in states:
        result.status, result.exit_code = "partly_fixed", EXIT_HOSTS_FAILED
    elif not result.runs or (result.snapshots and not any(s["approval"] for s in result.snapshots)):
        result.status, result.exit_code = "not_approved", EXIT_REFUSED
    else:
        result.status, result.exit_code = "failed", EXIT_HOSTS_FAILED
