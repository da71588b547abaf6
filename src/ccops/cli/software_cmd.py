"""ccops software stage / apply / remove / status: the catalogue's applications on the hosts.

apply and remove are the software-apply and software-remove verbs of the
registry (shared options, waves, gates, records, resume), built by verb_cmd.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ccops.cli.options import (
    build_selector,
    change_id_option,
    events_option,
    inventory_option,
    output_option,
    resolve_inventory,
    selector_options,
)
from ccops.cli.output import echo, emit_json, table
from ccops.cli.verb_cmd import verb_command
from ccops.verbs import VERBS


@click.group()
def software() -> None:
    """Applications from the software catalogue (<inventory>/catalogue/*.yml),
    installed from each site's distribution point."""


@software.command("stage")
@inventory_option
@click.option("--site", "sites", multiple=True, help="Only this site's point (repeatable). Default: every site's.")
@change_id_option(required=False, help="Change or ticket id recorded with the run.")
@output_option()
@events_option
def stage(inventory: Path | None, sites: tuple[str, ...], change_id: str | None, output: str) -> None:
    """Copy the catalogue's artefacts to each site's distribution point: a signed apt
    repository for Debian hosts, plain files for the rest. Artefacts whose sha256
    differs from the catalogue's are refused; files the point already holds intact
    are not sent again; every file sent is verified by sha256 on arrival."""
    from ccops.runner.progress import Progress
    from ccops.software.stage import stage_sites

    result = stage_sites(resolve_inventory(inventory), sites, change_id, Progress(enabled=output == "text"))
    if output == "json":
        emit_json(result.as_dict())
        sys.exit(result.exit_code)
    rows = [[s.site, s.point, s.outcome, len(s.sent), len(s.kept), len(s.refused)] for s in result.sites]
    echo(table(rows, ["SITE", "POINT", "RESULT", "SENT", "ALREADY THERE", "REFUSED"]))
    for s in result.sites:
        for line in s.refused:
            echo(f"{s.site}: refused {line}")
    message = f" ({result.run.message})" if result.run.message else ""
    echo(f"run {result.run.run_id}: {result.run.status}{message}")
    sys.exit(result.exit_code)


software.add_command(verb_command(VERBS["software-apply"], "apply"))
_remove = verb_command(VERBS["software-remove"], "remove")
# the application to remove is an argument, reaching the content hook as the verb's option
_remove.params = [click.Argument(["software_remove"], metavar="APP")] + [
    p for p in _remove.params if p.name != "software_remove"
]
software.add_command(_remove)


@software.command("status")
@click.argument("app", required=False)
@inventory_option
@selector_options
@output_option()
def status(app: str | None, inventory: Path | None, output: str, **selectors: tuple[str, ...]) -> None:
    """Which hosts run which version of each application (or of APP), from their
    asset records (ccops inspect), next to what the catalogue wants; drift is named."""
    from ccops.errors import UsageError
    from ccops.inventory.load import load_inventory
    from ccops.inventory.select import select
    from ccops.run import open_store
    from ccops.software.catalogue import load_catalogue
    from ccops.software.status import status_rows

    loaded = load_inventory(resolve_inventory(inventory))
    catalogue = load_catalogue(loaded.root)
    if app is not None and app not in catalogue.applications:
        raise UsageError(f"no application {app!r} in the catalogue; known: {', '.join(catalogue.applications)}")
    hosts = select(loaded, build_selector(**selectors), ("active", "retiring")).hosts
    rows = status_rows(catalogue, hosts, open_store(), app)
    if output == "json":
        emit_json(rows)
        return
    echo(
        table(
            [[r["host"], r["app"], r["desired"], r["installed"] or "-", r["state"], r["recorded"]] for r in rows],
            ["HOST", "APPLICATION", "DESIRED", "INSTALLED", "STATE", "RECORDED"],
        )
    )
