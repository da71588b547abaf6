"""ccops backups list and ccops rollback: the backups patching made, and using one."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ccops.cli.options import inventory_option, output_option, resolve_inventory
from ccops.cli.output import emit_json, table
from ccops.errors import CcopsError


@click.group()
def backups() -> None:
    """Backups at the sites' backup targets (each with a verified checksum)."""


@backups.command("list")
@click.argument("host", required=False)
@inventory_option
@output_option()
def list_backups(host: str | None, inventory: Path | None, output: str) -> None:
    """Every backup, or one HOST's, oldest first."""
    from ccops.backups import list_backups as find
    from ccops.inventory.load import load_inventory

    found = find(load_inventory(resolve_inventory(inventory)), host)
    if output == "json":
        emit_json(found)
        return
    click.echo(table([[b.get("host"), b.get("id"), b.get("phase"), b.get("created"), b.get("size"),
                       str(b.get("sha256", ""))[:12], "yes" if b.get("verified") else "NO", b.get("change_id")]
                      for b in found], ["HOST", "BACKUP", "PHASE", "CREATED", "BYTES", "SHA256", "VERIFIED",
                                        "CHANGE"]))


@click.command()
@click.argument("host")
@click.option("--to", "backup_id", required=True, help="The backup to return to (see ccops backups list HOST).")
@inventory_option
@click.option("--change-id", help="Change or ticket id recorded with the run.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (pipelines).")
@output_option()
def rollback(host: str, backup_id: str, inventory: Path | None, change_id: str | None, yes: bool,
             output: str) -> None:
    """Return HOST to a verified backup: its package versions and declared paths.

    The backup's checksum is verified before anything is restored.
    """
    from ccops.backups import find_backup
    from ccops.inventory.load import load_inventory
    from ccops.run import RunRequest, run_verb
    from ccops.runner.progress import Progress
    from ccops.select import Selector

    path = resolve_inventory(inventory)
    backup = find_backup(load_inventory(path), host, backup_id)
    if not yes:
        if not sys.stdin.isatty():
            raise CcopsError("refusing to roll back without confirmation: pass --yes")
        click.confirm(f"roll {host} back to {backup['id']} ({backup.get('created')})?", abort=True, err=True)
    request = RunRequest(path, "rollback", Selector(limit=(host,)), change_id=change_id,
                         options={"ccops_backup_id": backup["id"], "ccops_confirmed": True})
    result = run_verb(request, Progress(enabled=output == "text"))
    if output == "json":
        emit_json({**result.as_dict(), "reports": result.reports})
    else:
        outcome = result.hosts[0]
        click.echo(f"{host}: {outcome.outcome} {outcome.message or ''} (run {result.run_id})")
    sys.exit(result.exit_code)
