"""ccops remediate: fix chosen CVEs with a snapshot of just their fixing packages, patched in waves, proven fixed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ccops.cli.options import (
    batch_size_option,
    build_selector,
    change_id_option,
    emergency_option,
    events_option,
    inventory_option,
    output_option,
    resolve_inventory,
    selector_options,
    yes_option,
)
from ccops.cli.output import echo, emit_json, table
from ccops.cli.vulns_cmd import URGENCY_CHOICES, _cve_ids
from ccops.errors import CcopsError, UsageError

if TYPE_CHECKING:
    from ccops.remediate.run import Remediation


@click.command("remediate")
@inventory_option
@selector_options
@click.option("--cve", "cves", multiple=True, callback=_cve_ids, help="Fix this CVE id (repeatable).")
@click.option("--urgency", type=click.Choice(URGENCY_CHOICES), help="Fix every CVE of this urgency or a higher one.")
@change_id_option(required=True, help="Change or ticket id; recorded with the snapshot, every run and backup.")
@click.option("--approve", is_flag=True, help="Approve the remediation snapshot under --change-id (as the operator).")
@click.option("--dry-run", is_flag=True, help="Only list what would be fixed, on which host, from which snapshot.")
@batch_size_option()
@emergency_option()
@yes_option()
@output_option()
@events_option
def remediate(inventory: Path | None, cves: tuple[str, ...], urgency: str | None, change_id: str, approve: bool,
              dry_run: bool, batch_size: int | None, emergency: bool, yes: bool, output: str,
              **selectors: tuple[str, ...]) -> None:  # fmt: skip
    """Fix chosen CVEs: from `ccops vulns`, the fixable (host, CVE, package, fixing version); a content
    snapshot of just the fixing packages' source packages (from the snapshot that holds them), staged
    on the site's point and approved (--approve, or the site's remediate.auto_approve rule); the patch
    verb from that snapshot in waves (backups, restore card, health checks, rollback); a new
    inspection. A CVE is reported fixed on a host only when its installed version proves it."""
    from ccops.cli.confirm import confirm
    from ccops.remediate.run import remediate as run_remediation
    from ccops.remediate.targets import at_least
    from ccops.runner.progress import Progress

    if bool(cves) == bool(urgency):
        raise UsageError("give either --cve ID (repeatable) or --urgency LEVEL")
    path = resolve_inventory(inventory)
    urgencies = at_least(urgency) if urgency else ()
    selector = build_selector(**selectors)
    plan = run_remediation(path, selector, cves, urgencies, change_id, dry_run=True)
    if not dry_run and plan.targets:
        hosts = sorted({t.host for t in plan.targets})
        lines = [f"  {t.host}: {t.cve} {t.package} {t.installed} -> {t.fixing}" for t in plan.targets]
        confirm(f"remediate {len(plan.targets)} CVE finding(s) on {len(hosts)} host(s) under change {change_id}",
                yes, lines)  # fmt: skip
        plan = run_remediation(path, selector, cves, urgencies, change_id, approve=approve, batch_size=batch_size,
                               emergency=emergency, progress=Progress(enabled=output == "text"))  # fmt: skip
    if output == "json":
        emit_json(plan.as_dict())
    else:
        _text(plan)
    if plan.exit_code:
        raise CcopsError(f"remediation {plan.status}", plan.exit_code)


def _text(plan: Remediation) -> None:
    if plan.status == "nothing_to_fix":
        echo("nothing to fix: no chosen CVE is fixable by a snapshot on the chosen hosts (see: ccops vulns)")
    if plan.status == "dry_run":
        rows = [[t.host, t.cve, t.urgency, t.package, t.installed, t.fixing, t.snapshot] for t in plan.targets]
        echo(table(rows, ["HOST", "CVE", "URGENCY", "PACKAGE", "INSTALLED", "FIXING", "FROM SNAPSHOT"]))
    for snap in plan.snapshots:
        approved = snap["approval"]
        how = (approved.get("rule") or f"{approved['change_id']} by {approved['by']}") if approved else "NOT APPROVED"
        echo(f"site {snap['site']}: snapshot {snap['snapshot']} (from {snap['parent']}), approved: {how}")
        if not approved:
            echo(f"  approve it (ccops content approve {snap['snapshot']} --change-id ID) and run this command "
                 "again, or give --approve")  # fmt: skip
    if plan.outcomes:
        rows = [[o.host, o.cve, o.package, o.before, o.after or "-", o.fixing, o.state, o.detail]
                for o in plan.outcomes]  # fmt: skip
        echo(table(rows, ["HOST", "CVE", "PACKAGE", "BEFORE", "AFTER", "FIXING", "RESULT", "DETAIL"]))
    if plan.unheld:
        echo(f"{len(plan.unheld)} finding(s) fixable in the archive but in no snapshot (ccops content snapshot)")
    if plan.runs:
        echo(f"status {plan.status}; runs: {', '.join(plan.runs)}")
