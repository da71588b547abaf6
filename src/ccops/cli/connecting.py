"""Which commands contact hosts, and the one gate they pass before their own code runs.

Every command of the CLI is declared here, as connecting or not
(tests/cli/test_offline_inventory.py fails on one that is neither). A connecting
command's inventory is loaded and an offline one refused (ccops.inventory.offline) before the
command's callback starts: before any plan is printed, any prompt, any ssh, ssh-keyscan,
ssh-agent or Ansible process.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ccops.verbs import VERBS

# how a connecting command names the inventory it will contact, from its parsed parameters
InventoryOf = Callable[[dict[str, Any]], Path | None]


def _option(params: dict[str, Any]) -> Path | None:
    from ccops.cli.options import resolve_inventory

    if params.get("saved_plan") is not None:
        return None  # `VERB --plan FILE` runs the plan's inventory: the verb refuses an offline one before asking
    return resolve_inventory(params.get("inventory"))


def _run_record(params: dict[str, Any]) -> Path | None:
    """resume contacts the hosts of the inventory its run record names (an unknown run: resume says so)."""
    from ccops.errors import CcopsError
    from ccops.run.execute import open_store
    from ccops.run.request import RunRequest

    try:
        record = open_store().run(str(params["run_id"]))
        if record is None or not record.request:
            return None
        return RunRequest.from_dict(record.request).inventory
    except (CcopsError, KeyError, TypeError, ValueError):
        return None


def _applying(params: dict[str, Any]) -> Path | None:
    """quarantine evaluate contacts hosts only with --apply (a comply --fix run)."""
    return _option(params) if params.get("apply_it") else None


def _unless_dry_run(params: dict[str, Any]) -> Path | None:
    """vulns import stages on the sites' points, remediate builds, stages and patches; --dry-run only reads."""
    return None if params.get("dry_run") else _option(params)


def _scheduled(params: dict[str, Any]) -> Path | None:
    """A firing checks for an offline inventory itself (ccops.schedule.fire): it records the refusal
    as a run before it contacts anything, so an unattended refusal is never silent."""
    return None


CONNECTING: dict[str, InventoryOf] = {
    "comply": _option,
    "content snapshot": _option,  # runs Ansible on the site's hosts and its distribution point
    "decommission": _option,
    "deploy": _option,
    "hostkey accept": _option,
    "hostkey check": _option,
    "image stage": _option,
    "inspect": _option,
    "node check": _option,
    "node prepare": _option,
    "patch": _option,
    "quarantine evaluate": _applying,
    "quarantine hold": _option,  # a comply --fix run on the held hosts
    "quarantine lift": _option,
    "reapply": _option,  # patches the hosts that took back an approved patch
    "remediate": _unless_dry_run,  # stages a snapshot of the fixing packages, patches and inspects
    "resume": _run_record,
    "rollback": _option,
    "schedule run": _scheduled,
    "software apply": _option,
    "software remove": _option,
    "software stage": _option,
    "vulns import": _unless_dry_run,  # seeds and stages the signed import on each site's point
    # every command built from the registry runs its playbook on the hosts
    **{name: _option for name, verb in VERBS.items() if verb.command},
}
# read the inventory, records or local files only (lab commands reach only the lab's own containers)
NO_CONNECTION = frozenset(
    {
        "backups list",
        "completion",
        "content approve",
        "content list",
        "host diff",
        "host show",
        "image build",
        "image list",
        "image show",
        "image validate",
        "inventory list",
        "inventory show",
        "inventory validate",
        "lab catalogue",
        "lab down",
        "lab status",
        "lab up",
        "lab vm down",
        "lab vm status",
        "lab vm up",
        # notify: mail and chat servers, never an inventory's hosts
        "notify check",
        "notify digest",
        "notify flush",
        "notify send",
        "notify status",
        "notify test",
        "plan",
        "quarantine list",
        "report",
        "risks",
        "runs certificate",
        "runs list",
        "runs log",
        "runs show",
        "runs unlock",
        "runs verify",
        "schedule install",
        "schedule list",
        "schedule next",
        "schedule remove",
        "software status",
    }
)


def commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    """Every leaf command of ``group`` by its path ("hostkey check")."""
    out: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            out.update(commands(command, f"{path} "))
        else:
            out[path] = command
    return out


def gate_command(name: str, command: click.Command) -> None:
    """Put the offline guard in front of every connecting command under ``command`` (the top-level ``name``).

    Each callback is wrapped once, however often the command is loaded.
    """
    tree = commands(command, f"{name} ") if isinstance(command, click.Group) else {name: command}
    for path, leaf in tree.items():
        if path in CONNECTING and leaf.callback is not None and not getattr(leaf.callback, "ccops_gated", False):
            leaf.callback = _gated(leaf.callback, CONNECTING[path])
            leaf.callback.ccops_gated = True  # type: ignore[attr-defined]


def _gated(callback: Callable[..., Any], inventory_of: InventoryOf) -> Callable[..., Any]:
    @functools.wraps(callback)
    def gated(*args: Any, **params: Any) -> Any:
        from ccops.inventory.offline import refuse_offline_at

        path = inventory_of(params)
        if path is not None:
            refuse_offline_at(path)
        return callback(*args, **params)

    return gated
