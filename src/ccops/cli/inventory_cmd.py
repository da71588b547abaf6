"""ccops inventory validate|list|show: the site inventory as ccops and Ansible see it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ccops.cli.options import build_selector, inventory_option, output_option, resolve_inventory, selector_options
from ccops.cli.output import echo, emit_json, table
from ccops.errors import InventoryError, UsageError

if TYPE_CHECKING:  # imported where used: ccops --help must not load it
    from ccops.inventory.model import Host, Inventory
    from ccops.inventory.yamldoc import Problem


@click.group()
def inventory() -> None:
    """Validate and read the site inventory.

    One YAML file per call-centre site under <inventory>/sites/, named by the
    inventory's ccops.yml. Stock Ansible reads the same folder through the
    ccops inventory plugin: ansible-inventory -i <inventory> --list.
    """


@inventory.command()
@inventory_option
@output_option()
def validate(inventory: Path | None, output: str) -> None:
    """Report every problem as FILE:LINE: message; exit 1 if there is any."""
    from ccops.inventory import cache
    from ccops.inventory.load import check_inventory, config_path
    from ccops.software.catalogue import check_catalogue

    path = resolve_inventory(inventory)
    config = config_path(path)
    model = cache.read(config)  # validated before, every file unchanged since (never a bad one)
    problems: list[Problem] = []
    if model is None:
        before = cache.digests_now(config, cache.sites_dir_of(config))
        model, problems = check_inventory(path)
        if model is not None and not problems:
            cache.write(config, model, before)
    if model is not None:  # the software catalogue kept with the inventory is checked the same way
        problems = sorted({*problems, *check_catalogue(model.root)[1]})
    if output == "json":
        emit_json(
            {
                "inventory": str(path),
                "ok": not problems,
                "problems": [{"file": p.file, "line": p.line, "message": p.message} for p in problems],
                "sites": len(model.sites) if model else 0,
                "hosts": len(model.hosts) if model else 0,
            }
        )
        if problems:
            raise SystemExit(1)
        return
    if problems or model is None:
        raise InventoryError(problems)
    echo(f"{path}: {len(model.sites)} site(s), {len(model.hosts)} host(s), no problems")


def _load(inventory: Path | None) -> Inventory:
    from ccops.inventory.load import load_inventory

    return load_inventory(resolve_inventory(inventory))


@inventory.command("list")
@inventory_option
@selector_options
@output_option()
def list_hosts(inventory: Path | None, output: str, **selectors: tuple[str, ...]) -> None:
    """List hosts; --output json prints what ansible-inventory --list prints."""
    import gc

    from ccops.inventory.export import to_ansible_list
    from ccops.inventory.select import select

    # The loaded fleet and the document built from it live until the command ends: the collector would
    # only walk them again and again (a sixth of the time at 32,000 hosts).
    gc.disable()
    try:
        model = _load(inventory)
        hosts = select(model, build_selector(**selectors)).hosts  # every lifecycle state: listing touches nothing
        if output == "json":
            emit_json(to_ansible_list(model, hosts))
            return
        _table(hosts)
    finally:
        gc.enable()


def _table(hosts: list[Host]) -> None:
    """One row per host, for people."""
    rows = [
        [
            h.name,
            h.site,
            h.role,
            h.os,
            h.business_line,
            h.lifecycle,
            h.address if h.port is None else f"{h.address}:{h.port}",
            h.asset_tag,
        ]
        for h in hosts
    ]
    echo(table(rows, ["HOST", "SITE", "ROLE", "OS", "LINE", "STATE", "ADDRESS", "ASSET TAG"]))
    echo(f"{len(hosts)} host(s)", err=True)


@inventory.command()
@click.argument("host_name", metavar="HOST")
@inventory_option
@output_option()
def show(host_name: str, inventory: Path | None, output: str) -> None:
    """Every variable Ansible gets for HOST, with the groups it is in."""
    from ccops.inventory.export import host_groups, host_vars, site_vars

    model = _load(inventory)
    if host_name not in model.hosts:  # an unknown name is a usage error (64), as in every command
        raise UsageError(f"no host {host_name!r} in inventory {model.root}; see ccops inventory list")
    host = model.host(host_name)
    site = model.sites[host.site]
    data: dict[str, Any] = {
        "host": host.name,
        "groups": host_groups(host, site),
        "defined_at": f"{host.source[0]}:{host.source[1]}",
        "vars": {**site_vars(site), **host_vars(model, host)},
    }
    if output == "json":
        emit_json(data)
        return
    echo(f"{host.name}  ({data['defined_at']})")
    echo(f"groups: {', '.join(data['groups'])}")
    for key, value in sorted(data["vars"].items()):
        echo(f"  {key}: {value}")
