"""``ccops reapply``: patch again the hosts whose approved patch was taken back (ccops.report.reverted).

Only the selected hosts whose newest inspection is a ``reverted`` finding are planned; the patch
runs with the snapshots the reverted runs used, through the patch verb (same pre-checks,
backups and re-baseline), and its record says why: ``reason: reverted after RUN``.
"""

from __future__ import annotations

from pathlib import Path

import click

from ccops.cli.confirm import confirm
from ccops.cli.options import (
    batch_size_option,
    build_selector,
    change_id_option,
    emergency_option,
    events_option,
    forks_option,
    inventory_option,
    output_option,
    resolve_inventory,
    selector_options,
    yes_option,
)
from ccops.cli.output import echo, emit_json


# its own command, not the factory's: its hosts and snapshots come from the records (ccops.report.reapply),
# and its question says why they are patched again; it runs through the factory's finish()
@click.command("reapply")
@inventory_option
@selector_options
@change_id_option(required=True, help="Change or ticket id; recorded with the run and every backup.")
@click.option("--run", "source", metavar="RUN", help="Only hosts that took back this patch run's packages.")
@batch_size_option()
@emergency_option()
@forks_option()
@yes_option(who="pipelines, schedules")
@output_option()
@events_option
def reapply(
    inventory: Path | None,
    sites: tuple[str, ...],
    roles: tuple[str, ...],
    os_variants: tuple[str, ...],
    lines: tuple[str, ...],
    limit: tuple[str, ...],
    change_id: str,
    source: str | None,
    batch_size: int | None,
    emergency: bool,
    forks: int,
    yes: bool,
    output: str,
) -> None:
    """Patch again the selected hosts whose approved patch was taken back (see: ccops risks, kind reverted)."""
    from ccops.cli.verb_cmd import finish
    from ccops.report.reapply import reapply_request
    from ccops.run import open_store, prepare

    selector = build_selector(sites, roles, os_variants, lines, limit)
    request, plan = reapply_request(
        open_store(), resolve_inventory(inventory), selector, change_id, source, batch_size, forks, emergency
    )
    if request is None or plan is None:
        if output == "json":
            emit_json({"reapply": None, "hosts": []})
        else:
            echo(f"no host took back an approved patch ({selector.describe()})")
        return
    for host in plan.not_patch:
        echo(f"{host}: its reverted packages came from a software run: ccops software apply --limit {host}")
    prepared = prepare(request)
    confirm(f"patch {len(prepared.plan.hosts)} host(s) again ({plan.reason}) under change {change_id}", yes)
    finish(prepared.verb, prepared, output)  # the patch verb's run and its changes table
