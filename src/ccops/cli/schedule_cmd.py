"""ccops schedule: the inventory's schedules, their next firings, one firing now, their systemd units."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ccops.cli.options import inventory_option, output_option, resolve_inventory
from ccops.cli.output import echo, emit_json, table

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.run import RunRequest
    from ccops.schedule.model import Schedule

SHOWN_HOSTS = 5  # text output names this many hosts per line; JSON lists them all


@click.group()
def schedule() -> None:
    """Unattended runs from schedules.yml, fired by systemd timers."""


@schedule.command("list")
@inventory_option
@output_option()
def list_schedules(inventory: Path | None, output: str) -> None:
    """Every schedule: what it runs, where, when (site time) and under which standing change."""
    from ccops.inventory.load import load_inventory
    from ccops.schedule.model import load_schedules

    schedules = load_schedules(load_inventory(resolve_inventory(inventory)))
    if output == "json":
        emit_json([s.as_dict() for s in schedules.values()])
        return
    rows = [[s.name, s.site, s.run, s.when(), s.change_id, s.selector.describe()] for s in schedules.values()]
    echo(table(rows, ["NAME", "SITE", "RUNS", "WHEN (SITE TIME)", "STANDING CHANGE", "HOSTS"]))


@schedule.command("next")
@inventory_option
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True, help="How far ahead to look.")
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%MZ"]),
    help="Look ahead from this UTC time (2026-12-07T00:00Z) instead of now.",
)
@output_option()
def next_firings(inventory: Path | None, days: int, start: datetime | None, output: str) -> None:
    """Each upcoming firing in site and UTC time, with the hosts it would touch and those it would refuse.

    Computed from today's inventory the way ccops plan computes a run; contacts nothing.
    """
    from ccops.inventory.load import load_inventory
    from ccops.schedule.model import load_schedules

    loaded = load_inventory(resolve_inventory(inventory))
    begin = start.replace(tzinfo=UTC) if start else datetime.now(UTC)
    found = [f for s in load_schedules(loaded).values() for f in _firings(loaded, s, begin, days)]
    found.sort(key=lambda f: (f["utc"], f["schedule"]))
    if output == "json":
        from ccops.cli.json_shapes import firing_out

        emit_json([firing_out(f) for f in found])
        return
    if not found:
        echo(f"no firing in the next {days} day(s)")
    for firing in found:
        echo(f"{firing['local']} ({firing['utc']})  {firing['schedule']}: {firing['run']}")
        echo(f"  touches {_names(firing['touches'])}")
        for reason, hosts in firing["refuses"].items():
            echo(f"  refuses {_names(hosts)}: {reason}")


def _firings(inventory: Inventory, schedule: Schedule, begin: datetime, days: int) -> list[dict[str, Any]]:
    from ccops.errors import CcopsError
    from ccops.plan.maintenance import window_open
    from ccops.run import RunRequest, prepare
    from ccops.schedule.model import REAPPLY
    from ccops.schedule.timing import firings
    from ccops.verbs import get_verb

    site = inventory.sites[schedule.site]
    request: RunRequest | None = RunRequest(
        inventory.root, schedule.verb, schedule.selector, options=dict(schedule.options)
    )
    touches: list[str] = []
    refuses: dict[str, list[str]] = {}
    try:
        if schedule.run == REAPPLY:  # only the hosts that took back an approved patch, as the store says today
            request = _reapplied(inventory, schedule)
        plan = None if request is None else prepare(request).plan
        touches = [] if plan is None else [h.name for h in plan.hosts]
        excluded = {} if plan is None else plan.excluded
        refuses = {reason: [h.name for h in hosts] for reason, hosts in excluded.items() if hosts}
    except CcopsError as exc:  # today's inventory would refuse the whole firing: say why
        refuses = {str(exc).splitlines()[0]: []}
    changes = get_verb(schedule.verb).changes_hosts
    held = _held_back(schedule)
    out = []
    for moment in firings(schedule, site, begin, days):
        row_touches, row_refuses = touches, dict(refuses)
        if changes and not window_open(site, moment):
            row_touches, row_refuses = [], {**refuses, f"maintenance window closed at site {site.code}": touches}
        if held:
            row_touches, row_refuses = [], {held: touches}
        if inventory.offline:
            row_touches, row_refuses = [], {"inventory marked offline: nothing runs": touches}
        out.append(
            {
                "schedule": schedule.name,
                "run": schedule.run,
                "change_id": schedule.change_id,
                "local": f"{moment:%a %Y-%m-%d %H:%M} {site.timezone}",
                "utc": f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
                "touches": row_touches,
                "refuses": row_refuses,
            }
        )
    return out


def _reapplied(inventory: Inventory, schedule: Schedule) -> RunRequest | None:
    from ccops.report.reapply import reapply_request
    from ccops.run import open_store

    assert schedule.change_id is not None  # noqa: S101 - a schedule always carries its standing change
    return reapply_request(open_store(), inventory.root, schedule.selector, schedule.change_id)[0]


def _held_back(schedule: Schedule) -> str | None:
    """Why every firing will be refused until an operator acts: the schedule's previous run is unfinished."""
    from ccops.run import open_store
    from ccops.schedule.fire import UNFINISHED, previous_run

    previous = previous_run(open_store(), schedule)
    if previous is None or previous["status"] not in UNFINISHED:
        return None
    return f"previous run {previous['id']} {UNFINISHED[previous['status']]} (ccops resume {previous['id']})"


def _names(hosts: list[str]) -> str:
    shown = ", ".join(hosts[:SHOWN_HOSTS]) + (
        f", ... ({len(hosts) - SHOWN_HOSTS} more)" if len(hosts) > SHOWN_HOSTS else ""
    )
    return f"{len(hosts)} host(s)" + (f": {shown}" if hosts else "")


@schedule.command("run")
@click.argument("name")
@inventory_option
@output_option()
def run_schedule(name: str, inventory: Path | None, output: str) -> None:
    """Fire schedule NAME now, exactly as its timer does (no prompt: it runs under its standing change).

    A refused firing (window closed, inventory offline, previous run halted or still
    running, another firing of it running) is recorded as a refused run and exits 5.
    """
    from ccops.cli.reports import print_result
    from ccops.errors import RefusedError
    from ccops.runner.progress import Progress
    from ccops.schedule.fire import STATUS_NOTHING, fire
    from ccops.verbs import get_verb

    firing = fire(resolve_inventory(inventory), name, progress=Progress(enabled=output == "text"))
    if firing.status == STATUS_NOTHING:  # a reapply firing with no host reverted: said, not recorded
        if output == "json":
            emit_json({"schedule": firing.schedule, "status": firing.status, "message": firing.message})
        else:
            echo(firing.message)
        return
    if firing.result is None:
        raise RefusedError(f"{firing.message} (recorded as refused run {firing.run_id})")
    print_result(firing.result, output, get_verb(firing.result.verb).report)


@schedule.command("install")
@inventory_option
@click.option(
    "--unit-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default="/etc/systemd/system",
    show_default=True,
    help="Where to write the units; systemd is reloaded and the timers enabled only in the system's.",
)
@click.option("--dry-run", is_flag=True, help="Print the units; write nothing.")
def install(inventory: Path | None, unit_dir: Path, dry_run: bool) -> None:
    """Write a timer and a service unit per schedule (units of schedules no longer declared are removed)."""
    from ccops.inventory.load import load_inventory
    from ccops.schedule import units
    from ccops.schedule.model import load_schedules

    loaded = load_inventory(resolve_inventory(inventory))
    user = units.unit_user()
    wanted = units.units_for(loaded, load_schedules(loaded), units.ccops_executable(), None if user == "root" else user)
    units.refuse_collisions(unit_dir, loaded, wanted)
    stale = [p for p in units.ours(unit_dir, loaded) if p.name not in {u.name for u in wanted}]
    if dry_run:
        for unit in wanted:
            echo(f"# {unit_dir / unit.name}\n{unit.text}")
        for path in stale:
            echo(f"# would remove {path}")
        return
    system = units.is_system_dir(unit_dir)
    timers = [u.name for u in wanted if u.name.endswith(".timer")]
    units.retire(stale, system)
    written = units.write_units(unit_dir, wanted)
    if system:
        units.systemctl("daemon-reload")
        if timers:
            units.systemctl("enable", "--now", *timers)
    for path in written:
        echo(f"wrote {path}")
    for path in stale:
        echo(f"removed {path}")
    if not system:
        echo(f"{unit_dir} is not the system's unit folder: systemd was not reloaded and no timer enabled")


@schedule.command("remove")
@click.option(
    "--unit-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default="/etc/systemd/system",
    show_default=True,
    help="Where the units are; timers are stopped and systemd reloaded only in the system's.",
)
@click.option(
    "-i",
    "--inventory",
    "inventory",
    type=click.Path(path_type=Path),
    default=None,
    help="Remove only this inventory's schedules (default: every unit ccops wrote there).",
)
@click.option("--dry-run", is_flag=True, help="Name the units; remove nothing.")
def remove(unit_dir: Path, inventory: Path | None, dry_run: bool) -> None:
    """Stop and delete the units ccops schedule install wrote in the unit folder (none other)."""
    from ccops.inventory.load import load_inventory
    from ccops.schedule import units

    found = units.ours(unit_dir, None if inventory is None else load_inventory(inventory))
    if dry_run or not found:
        for path in found:
            echo(f"would remove {path}")
        if not found:
            echo(f"no ccops schedule units in {unit_dir}")
        return
    system = units.is_system_dir(unit_dir)
    units.retire(found, system)
    for path in found:
        echo(f"removed {path}")
    if system:
        units.systemctl("daemon-reload")
