"""ccops hostkey check|accept: see which hosts present the SSH key on record, and re-key one deliberately."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ccops.cli.confirm import confirm
from ccops.cli.options import build_selector, inventory_option, output_option, resolve_inventory, selector_options
from ccops.cli.output import echo, emit_json, table


@click.group()
def hostkey() -> None:
    """SSH host keys: every ccops run refuses a host whose key changed or is unknown.

    A changed key means another machine answers at that address (a spoofed
    address, a re-imaged seat): it gets no password and no task. When the
    change is legitimate, `ccops hostkey accept HOST` records the new key
    after showing both fingerprints, and the change is kept in the run records.
    """


@hostkey.command()
@inventory_option
@selector_options
@output_option()
def check(inventory: Path | None, output: str, **selectors: tuple[str, ...]) -> None:
    """Compare each selected SSH host's presented key with the recorded one.

    Exit 0 when every host matches; 2 when a key changed, is unknown or no
    host answered.
    """
    from ccops.inventory.load import load_inventory
    from ccops.inventory.select import select
    from ccops.runner import hostkeys

    inv = load_inventory(resolve_inventory(inventory))
    hosts = [
        h
        for h in select(inv, build_selector(**selectors), ("active", "retiring")).hosts
        if inv.sites[h.site].connections[h.connection]["type"] == "ssh"
    ]
    results = [hostkeys.check(inv, h) for h in hosts]
    if output == "json":
        emit_json([r.as_dict() for r in results])
    else:
        echo(
            table(
                [[r.host, r.endpoint, r.state, ", ".join(r.presented) or "-", str(r.known_hosts)] for r in results],
                ["HOST", "ADDRESS", "KEY", "PRESENTED", "KNOWN_HOSTS"],
            )
        )
    sys.exit(0 if all(r.state == "ok" for r in results) else 2)


@hostkey.command()
@inventory_option
@click.argument("host")
@click.option("--change-id", help="Change or ticket id recorded with the re-key.")
@click.option("--yes", is_flag=True, help="Do not ask (pipelines); the fingerprints are still printed.")
def accept(inventory: Path | None, host: str, change_id: str | None, yes: bool) -> None:
    """Record the SSH key HOST presents now, after showing old and new fingerprints.

    Only for a legitimate change (the machine was re-imaged or rebuilt); the
    re-key is kept as a run in `ccops runs list` (verb hostkey).
    """
    from ccops.inventory.load import load_inventory
    from ccops.run.hostkey_change import record_change
    from ccops.runner import hostkeys

    inv = load_inventory(resolve_inventory(inventory))
    target = inv.host(host)
    current = hostkeys.check(inv, target)
    echo(f"{host} at {current.endpoint} ({current.known_hosts}): {current.state}", err=True)
    echo(f"  recorded:  {', '.join(current.recorded) or 'none'}", err=True)
    echo(f"  presented: {', '.join(current.presented) or 'none'}", err=True)
    if current.state == "ok":
        echo(f"{host}: the recorded key is the one presented; nothing to change")
        return
    confirm(f"record the presented key for {host}", yes)
    accepted = hostkeys.accept(inv, target)
    run_id = record_change(inv, target.name, accepted.as_dict(), change_id)
    echo(f"{host}: new key recorded in {accepted.known_hosts} (run {run_id})")
