"""Shell-completion sources for host, site and run names, attached to every command once loaded.

They read the inventory's files and the record store only (never a host), and answer nothing
rather than fail: a completion that raises would print a traceback into the operator's prompt.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from click.shell_completion import CompletionItem

Source = Callable[[click.Context, click.Parameter, str], list[CompletionItem]]


def complete_names(command: click.Command) -> None:
    """Give the HOST, RUN and --site/--limit parameters of ``command`` (and its subcommands) their source."""
    for param in command.params:
        source = _source_for(param)
        if source is not None and param._custom_shell_complete is None:
            param._custom_shell_complete = source
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            complete_names(sub)


def _source_for(param: click.Parameter) -> Source | None:
    if isinstance(param, click.Option):
        return {"sites": site_names, "limit": host_names}.get(param.name or "")
    shown = (param.metavar or param.name or "").upper()
    if shown in ("HOST", "HOST_NAME"):
        return host_names
    if shown in ("RUN", "RUN_ID"):
        return run_names
    return None


def _inventory_path(ctx: click.Context) -> Path:
    from ccops.paths import default_inventory

    chosen = ctx.params.get("inventory")
    return Path(chosen) if chosen else default_inventory()


def _matching(names: list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(name) for name in sorted(set(names)) if name.startswith(incomplete)]


def host_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    try:
        from ccops.inventory.load import check_inventory

        model, _ = check_inventory(_inventory_path(ctx))
        return _matching(list(model.hosts) if model else [], incomplete)
    except Exception:
        return []


def site_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    try:
        from ccops.inventory.load import check_inventory

        model, _ = check_inventory(_inventory_path(ctx))
        return _matching(list(model.sites) if model else [], incomplete)
    except Exception:
        return []


def run_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The newest runs' ids; a missing store is not created for a completion."""
    try:
        from ccops.paths import state_dir
        from ccops.store.records import Store

        database = state_dir() / "ccops.db"
        if not database.exists():
            return []
        return _matching([run.id for run in Store(database).runs(limit=50)], incomplete)
    except Exception:
        return []
