"""ccops quarantine: hold hosts apart from their site, lift holds, list them, evaluate the policy.

``ccops quarantine HOST... --reason TEXT --change-id ID`` (or ``quarantine hold``) holds by hand;
``lift`` lifts; ``list`` reads the store; ``evaluate`` shows what the sites' ``quarantine:``
policies hold and lift now, and with ``--apply`` does it. Every change is a comply --fix run
on the hosts concerned (ccops.quarantine.apply), recorded with its reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ccops.cli.confirm import confirm
from ccops.cli.options import (
    build_selector,
    change_id_option,
    inventory_option,
    output_option,
    resolve_inventory,
    selector_options,
)
from ccops.cli.output import echo, emit_json, table
from ccops.errors import RefusedError, UsageError
from ccops.text.safe_text import visible

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.quarantine.apply import Change
    from ccops.store.records import Store

REASON_MAX = 500
SUBCOMMANDS = ("hold", "lift", "list", "evaluate")


class QuarantineGroup(click.Group):
    """``ccops quarantine HOST...`` is ``ccops quarantine hold HOST...``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["hold", *args]
        return super().parse_args(ctx, args)


def _change_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--emergency", is_flag=True, help="Run outside the sites' maintenance windows."),
            click.option("--forks", type=click.IntRange(1, 500), default=25, show_default=True, help="Hosts at once."),
            click.option("--yes", is_flag=True, help="Do not ask for confirmation (pipelines, schedules)."),
            output_option(),
        ]
    ):
        func = option(func)
    return func


@click.group(cls=QuarantineGroup)
def quarantine() -> None:
    """Hold hosts apart from their site until they are put right.

    A held host's firewall admits only the site's management addresses, execution node,
    distribution point and backup target; every other host's allow-list leaves it out at its
    next comply --fix. Every change of a hold is a recorded comply --fix run with its reason.
    ccops quarantine HOST... is ccops quarantine hold HOST...
    """


@quarantine.command("hold", short_help="Hold hosts apart by hand (ccops quarantine HOST... too).")
@inventory_option
@click.argument("host", nargs=-1, required=True)  # HOST: completed from the inventory
@click.option("--reason", required=True, help="Why the hosts are held apart (recorded with the run).")
@change_id_option(required=True, help="Change or ticket id; recorded with the run.")
@_change_options
def hold(
    inventory: Path | None, host: tuple[str, ...], reason: str, change_id: str, emergency: bool, forks: int,
    yes: bool, output: str,
) -> None:  # fmt: skip
    """Hold each HOST apart by hand (lifted only by ccops quarantine lift)."""
    from ccops.inventory.compliance import hold_refusal
    from ccops.quarantine.apply import Change
    from ccops.store.holds import Hold, now_text

    why = _reason(reason)
    model, store = _load(inventory)
    chosen = [model.host(name) for name in dict.fromkeys(host)]
    for one in chosen:
        refusal = hold_refusal(model, one)
        if refusal:
            raise RefusedError(f"{refusal}; nothing done")
    change = Change(
        holds=[Hold(h.name, h.site, now_text(), [why], automatic=False) for h in chosen],
        run_hosts=[h.name for h in chosen],
    )
    _run(store, model, change, change_id, emergency, forks, yes, output, f"hold {len(chosen)} host(s) apart")


@quarantine.command("lift", short_help="Lift holds; their firewalls are restored by the run.")
@inventory_option
@click.argument("host", nargs=-1, required=True)  # HOST: completed from the inventory
@click.option("--reason", default="lifted by hand", show_default=True, help="Why the hold ends (recorded).")
@change_id_option(required=True, help="Change or ticket id; recorded with the run.")
@_change_options
def lift_cmd(
    inventory: Path | None, host: tuple[str, ...], reason: str, change_id: str, emergency: bool, forks: int,
    yes: bool, output: str,
) -> None:  # fmt: skip
    """Lift the hold on each HOST (manual or automatic); their firewalls are restored by the run."""
    from ccops.quarantine.apply import Change
    from ccops.store.holds import active_by_host

    why = _reason(reason)
    model, store = _load(inventory)
    held = active_by_host(store)
    missing = [h for h in dict.fromkeys(host) if h not in held]
    if missing:
        raise UsageError(f"{', '.join(visible(m) for m in missing[:5])}: not held (ccops quarantine list)")
    names = list(dict.fromkeys(host))
    change = Change(lifts=dict.fromkeys(names, why), run_hosts=[n for n in names if _in_service(model, n)])
    _run(store, model, change, change_id, emergency, forks, yes, output, f"lift the hold on {len(names)} host(s)")


@quarantine.command("list", short_help="The hosts held apart now, or every hold (--all).")
@inventory_option
@selector_options
@click.option("--all", "everything", is_flag=True, help="Also the holds lifted already (the history).")
@output_option()
def list_cmd(inventory: Path | None, everything: bool, output: str, **selectors: tuple[str, ...]) -> None:
    """The hosts held apart now (with --all: every hold ever set), from the records."""
    from ccops.inventory.select import select
    from ccops.store.holds import holds

    model, store = _load(inventory)
    chosen = {h.name for h in select(model, build_selector(**selectors), None).hosts}
    rows = [h for h in holds(store, active=not everything) if h.host in chosen]
    if output == "json":
        emit_json({"holds": [h.as_dict() for h in rows]})
        return
    if not rows:
        echo("no host is held apart" + (" or was" if everything else ""))
        return
    echo(table([_row(h) for h in rows], ["HOST", "SITE", "SINCE", "KIND", "APPLIED BY", "LIFTED", "REASONS"]))


@quarantine.command("evaluate", short_help="What the sites' policies hold and lift now; --apply does it.")
@inventory_option
@click.option("--apply", "apply_it", is_flag=True, help="Hold and lift as shown (a comply --fix run).")
@change_id_option(required=False, help="Change or ticket id (required with --apply); recorded with the run.")
@_change_options
def evaluate_cmd(
    inventory: Path | None, apply_it: bool, change_id: str | None, emergency: bool, forks: int, yes: bool,
    output: str,
) -> None:  # fmt: skip
    """What the sites' quarantine policies hold and lift now; --apply does it."""
    from ccops.quarantine.current import change_of, evaluate_now

    if apply_it and not change_id:
        raise UsageError("ccops quarantine evaluate --apply needs --change-id (recorded with the run)")
    if not apply_it and (emergency or yes):
        raise UsageError("--emergency and --yes go with --apply; without it nothing changes")
    model, store = _load(inventory)
    found = evaluate_now(store, model)
    if not apply_it or (not found.holds and not found.lifts):
        _show(found.as_dict(), output, dry=not apply_it)
        return
    assert change_id is not None  # noqa: S101 (checked above)
    _show(found.as_dict(), "text" if output == "text" else "none", dry=False)
    _run(store, model, change_of(found, model), change_id, emergency, forks, yes, output, "change the holds as shown")


def _run(
    store: Store, model: Inventory, change: Change, change_id: str, emergency: bool, forks: int, yes: bool,
    output: str, what: str,
) -> None:  # fmt: skip
    from ccops.cli.reports import print_result
    from ccops.inventory.compliance import dropping_hosts
    from ccops.quarantine.apply import apply, request
    from ccops.run import prepare
    from ccops.runner.progress import Progress

    prepared = prepare(request(model.root, change, change_id, emergency, forks)) if change.run_hosts else None
    details = [f"{h.host}: {'; '.join(h.reasons)}" for h in change.holds]
    details += [f"{host}: lift ({why})" for host, why in change.lifts.items()]
    confirm(f"{what} under change {change_id} (a comply --fix run)", yes, details)
    stored, result = apply(store, prepared, change, change_id, Progress(enabled=output == "text"))
    if output == "text":
        for hold in stored:
            others = dropping_hosts(model, model.hosts[hold.host]) if hold.host in model.hosts else []
            echo(f"{hold.host}: held apart ({hold.kind}); {_dropping(others)}")
        for host in change.lifts:
            echo(f"{host}: hold lifted; other hosts admit it again at their next comply --fix")
    if result is None:
        if output == "json":
            emit_json({"holds": [h.as_dict() for h in stored], "lifted": list(change.lifts), "run_id": None})
        return
    print_result(result, output, "compliance")


def _dropping(others: list[str]) -> str:
    if not others:
        return "no other host's allow-list names it"
    shown = ", ".join(others[:10]) + (" ..." if len(others) > 10 else "")
    return f"{len(others)} other host(s) drop it at their next comply --fix: {shown}"


def _show(found: dict[str, Any], output: str, dry: bool) -> None:
    if output == "json":
        emit_json({**found, "applied": not dry})
        return
    if output != "text":
        return
    if not any(found.values()):
        echo("no hold to set or lift")
        return
    for hold in found["hold"]:
        echo(f"hold {hold['host']}: {'; '.join(hold['reasons'])}")
    for lift in found["lift"]:
        echo(f"lift {lift['host']}: {lift['reason']}")
    for refused in found["refused"]:
        echo(f"not held {refused['host']}: {refused['reason']}")
    if dry:
        echo("nothing changed (dry run): ccops quarantine evaluate --apply --change-id ID")


def _load(inventory: Path | None) -> tuple[Inventory, Store]:
    from ccops.inventory.load import load_inventory
    from ccops.run import open_store

    return load_inventory(resolve_inventory(inventory)), open_store()


def _in_service(model: Inventory, name: str) -> bool:
    from ccops.inventory.compliance import IN_SERVICE

    return name in model.hosts and model.hosts[name].lifecycle in IN_SERVICE


def _reason(text: str) -> str:
    from ccops.text.templating import is_templated

    if not text.strip() or len(text) > REASON_MAX or not text.isprintable() or is_templated(text):
        raise UsageError(f"--reason: one printable line of at most {REASON_MAX} characters, not a template")
    return text.strip()


def _row(hold: Any) -> list[str]:
    return [hold.host, hold.site or "-", hold.since, hold.kind, hold.applied_run or "-",
            f"{hold.lifted} ({hold.lift_reason})" if hold.lifted else "-", "; ".join(hold.reasons)]  # fmt: skip
