"""ccops backups list and ccops rollback: the backups patching made, and using one."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ccops.cli.confirm import confirm
from ccops.cli.options import (
    change_id_option,
    events_option,
    inventory_option,
    output_option,
    resolve_inventory,
    yes_option,
)
from ccops.cli.output import echo, emit_json, table, utc_time


@click.group()
def backups() -> None:
    """Backups at the sites' backup targets, checked against the run records."""


@backups.command("list")
@click.argument("host", required=False)
@inventory_option
@output_option()
def list_backups(host: str | None, inventory: Path | None, output: str) -> None:
    """Every backup, or one HOST's (an exact name), oldest first.

    RECORD says whether the share still agrees with what the run record kept
    (sha256, size, paths, machine); MACHINE marks backups taken on another
    machine than the host's newest backup (a rebuilt or replaced host).
    """
    from ccops.inventory.load import load_inventory
    from ccops.report.backups import exact_host
    from ccops.report.backups import list_backups as find
    from ccops.run import open_store

    loaded = load_inventory(resolve_inventory(inventory))
    found = find(loaded, exact_host(loaded, host) if host is not None else None, open_store())
    if output == "json":
        emit_json(found)
        return
    echo(
        table(
            [
                [
                    b.get("host"),
                    b.get("id"),
                    b.get("phase"),
                    utc_time(b.get("created")),
                    b.get("size"),
                    str(b.get("sha256", ""))[:12],
                    _machine(b),
                    _record(b),
                    b.get("change_id"),
                ]
                for b in found
            ],
            ["HOST", "BACKUP", "PHASE", "CREATED", "BYTES", "SHA256", "MACHINE", "RECORD", "CHANGE"],
        )
    )


def _machine(backup: dict[str, Any]) -> str:
    machine = str(backup.get("machine_id") or "?")[:8]
    return f"{machine} OTHER MACHINE" if backup.get("other_machine") else machine


def _record(backup: dict[str, Any]) -> str:
    if not backup.get("recorded"):
        return "not recorded"
    return f"DIFFERS ({', '.join(backup['differs'])})" if backup.get("differs") else "matches"


# its own command, not the factory's: one HOST and the backup it returns to (--to), checked against
# the records before the question; the shared options are cli/options.py's
@click.command()
@click.argument("host")
@click.option(
    "--to",
    "backup_id",
    required=True,
    help="The backup to return to: its id or a unique prefix (see ccops backups list HOST).",
)
@inventory_option
@change_id_option(
    required=True, help="Change or ticket id recorded with the run (required: rollback changes the host)."
)
@yes_option()
@output_option()
@events_option
def rollback(host: str, backup_id: str, inventory: Path | None, change_id: str, yes: bool, output: str) -> None:
    """Return HOST (an exact name) to a backup: its package versions and declared paths.

    The backup must be in the run records and the share must agree with them
    (archive sha256, manifest); the host must be the machine it was taken on.
    """
    from ccops.inventory.load import load_inventory
    from ccops.inventory.select import Selector
    from ccops.report.backups import exact_host, find_backup, verified_backup
    from ccops.run import RunRequest, open_store, run_verb
    from ccops.runner.progress import Progress

    path = resolve_inventory(inventory)
    loaded = load_inventory(path)
    host = exact_host(loaded, host)
    backup = find_backup(loaded, host, backup_id)
    recorded = verified_backup(open_store(), backup)
    confirm(f"roll {host} back to {backup['id']} ({backup.get('created')})", yes)
    # only checked values reach the playbook: hex digests and an id that names an existing folder
    request = RunRequest(
        path,
        "rollback",
        Selector(limit=(host,)),
        change_id=change_id,
        options={
            "ccops_backup_id": backup["id"],
            "ccops_backup_sha256": recorded["sha256"],
            "ccops_backup_machine_id": recorded["machine_id"],
            "ccops_confirmed": True,
        },
    )
    result = run_verb(request, Progress(enabled=output == "text"))
    if output == "json":
        emit_json({**result.as_dict(), "reports": result.reports})
    else:
        for outcome in result.hosts:
            echo(f"{outcome.host}: {outcome.outcome} {outcome.message or ''} (run {result.run_id})")
    sys.exit(result.exit_code)
