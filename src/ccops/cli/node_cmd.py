"""ccops node: a site's execution node (prepare it, check it)."""

from __future__ import annotations

from pathlib import Path

import click

from ccops.cli.options import inventory_option, output_option, resolve_inventory
from ccops.cli.output import echo, emit_json


@click.group()
def node() -> None:
    """A site's execution node: it runs the site's batches (site.node in its site file)."""


@node.command()
@inventory_option
@click.option("--site", required=True, help="The site whose node to prepare.")
@output_option()
def prepare(inventory: Path | None, site: str, output: str) -> None:
    """Install or update the node's ansible-core, ansible-runner and collections: the versions
    this jump host runs, from wheels it downloads once and copies over ssh (the node needs no
    package registry). Debian 11 cannot be a node (ansible-core needs Python 3.11)."""

    from ccops.inventory.load import load_inventory
    from ccops.node.prepare import prepare_node
    from ccops.node.target import site_node

    target = site_node(load_inventory(resolve_inventory(inventory)), site)
    say = (lambda line: echo(line, err=True)) if output == "text" else (lambda line: None)
    state = prepare_node(target, say)
    if output == "json":
        emit_json({"node": target.name, "site": site, **state})
        return
    echo(
        f"{target.label()} ready in {state['seconds']}s: Python {state['python']}, ansible-core "
        f"{state['ansible_core']}, ansible-runner {state['ansible_runner']}, collections "
        + (", ".join(f"{k} {v}" for k, v in state["collections"].items()) or "none")
    )


@node.command()
@inventory_option
@click.option("--site", required=True, help="The site whose node to check.")
def check(inventory: Path | None, site: str) -> None:
    """What every job checks first: the node runs this jump host's versions (exit 4 if not)."""
    from ccops.inventory.load import load_inventory
    from ccops.node.prepare import check_node
    from ccops.node.target import site_node

    target = site_node(load_inventory(resolve_inventory(inventory)), site)
    state = check_node(target)
    echo(f"{target.label()}: ansible-core {state['ansible_core']}, ansible-runner {state['ansible_runner']}: ok")
