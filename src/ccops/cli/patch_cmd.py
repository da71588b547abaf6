"""ccops patch and ccops resume: patching in waves, and continuing a run that stopped."""

from __future__ import annotations

import sys
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
from ccops.cli.output import duration, emit_json, table

if TYPE_CHECKING:  # imported where used: ccops --help must not load it
    from ccops.run.request import RunResult


@click.command()
@inventory_option
@selector_options
@change_id_option(required=True, help="Change or ticket id; recorded with the run and every backup.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Override every site's rollout.batch_size.")
@click.option(
    "--reboot",
    type=click.Choice(["if_required", "always", "never"]),
    default="if_required",
    show_default=True,
    help="Reboot after patching.",
)
@click.option("--emergency", is_flag=True, help="Patch outside the sites' maintenance windows.")
@click.option("--forks", type=click.IntRange(1, 500), default=25, show_default=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (pipelines).")
@output_option()
def patch(
    inventory: Path | None,
    change_id: str,
    batch_size: int | None,
    reboot: str,
    emergency: bool,
    forks: int,
    yes: bool,
    output: str,
    **selectors: tuple[str, ...],
) -> None:
    """Patch hosts in waves: per host, pre-checks (reachable, active, maintenance
    window, free space, seat not busy), a verified backup, updates, a reboot
    when needed, a health check, a verified backup after, and the write
    filter or restore card re-baseline. A failed health check restores the
    before-backup. A wave whose failures cross the site's max_fail_percentage
    (or the run's max_failures) halts the run before its next batch (exit 3);
    ccops resume RUN continues it.

    Review first: ccops plan patch [selectors].
    """
    from ccops.run import RunRequest, execute, prepare
    from ccops.runner.progress import Progress

    request = RunRequest(
        resolve_inventory(inventory),
        "patch",
        build_selector(**selectors),
        change_id=change_id,
        batch_size=batch_size,
        forks=forks,
        emergency=emergency,
        options={"ccops_reboot": reboot},
    )
    # the plan confirmed here is the plan that runs: execute() does not plan again
    prepared = prepare(request)
    plan = prepared.plan
    confirm(f"patch {len(plan.hosts)} host(s) in {len(plan.waves)} wave(s) under change {change_id}", yes)
    _print(execute(prepared, Progress(enabled=output == "text")), output)


@click.command()
@click.argument("run_id", metavar="RUN")
@click.option(
    "--keep-plan",
    is_flag=True,
    help="Continue the approved plan although the inventory changed since (the change is named).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (pipelines).")
@output_option()
def resume(run_id: str, keep_plan: bool, yes: bool, output: str) -> None:
    """Continue a halted, interrupted or killed run with the plan it was
    approved with. Hosts that finished are not run again; every other host
    starts over with a new verified backup. An inventory edited since the
    run was planned stops the resume, naming the files, unless --keep-plan."""
    from ccops.run import resume_run
    from ccops.runner.progress import Progress

    confirm(f"resume run {run_id}", yes)
    _print(resume_run(run_id, Progress(enabled=output == "text"), keep_plan=keep_plan), output)


def _print(result: RunResult, output: str) -> None:
    if output == "json":
        emit_json({**result.as_dict(), "reports": result.reports})
    else:
        click.echo(report_table(result))
        click.echo("")
        rows = [
            [
                w["wave"],
                site,
                sum(counts.values()),
                ", ".join(f"{k}={v}" for k, v in sorted(counts.items())),
                duration(w["seconds"]),
            ]
            for w in result.waves
            for site, counts in w["sites"].items()
        ]
        click.echo(table(rows, ["WAVE", "SITE", "HOSTS", "RESULTS", "WAVE TIME"]))
        click.echo(f"run {result.run_id}: {result.status} ({result.message}); ccops runs show {result.run_id}")
    sys.exit(result.exit_code)


def report_table(result: RunResult) -> str:
    rows = []
    for outcome in result.hosts:
        report = result.reports.get(outcome.host) or {}
        before, after = report.get("versions_before") or {}, report.get("versions_after") or {}
        backups = [
            f"{int(b.get('size') or 0) // 1024} KiB"
            for b in (report.get("backup_before"), report.get("backup_after"))
            if b
        ]
        seconds = _seconds(outcome.started, outcome.ended)
        rows.append(
            [
                outcome.host,
                outcome.outcome,
                f"{len(after) or len(before)}",
                " / ".join(backups) or "-",
                "yes" if report.get("rebooted") else "no",
                _health(report),
                report.get("rebaseline") or "-",
                duration(seconds),
                outcome.message or "",
            ]
        )
    return table(
        rows, ["HOST", "RESULT", "PKGS", "BACKUPS BEFORE / AFTER", "REBOOT", "HEALTH", "REBASELINE", "TIME", "MESSAGE"]
    )


def _health(report: dict[str, Any]) -> str:
    health = report.get("health") or {}
    if not health:
        return "-"
    return "ok" if health.get("ok") else "FAILED"


def _seconds(started: str | None, ended: str | None) -> float | None:
    from datetime import datetime

    if not started or not ended:
        return None
    return (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()
