"""ccops inspect: collect each host's asset record (the seeds' scenario 5)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ccops.cli.options import build_selector, inventory_option, output_option, resolve_inventory, selector_options
from ccops.cli.output import emit_json, table, uptime

if TYPE_CHECKING:  # imported where used: ccops --help must not load it
    from ccops.run.request import RunResult


@click.command()
@inventory_option
@selector_options
@click.option("--change-id", help="Change or ticket id recorded with the run.")
@click.option(
    "--forks", type=click.IntRange(1, 500), default=25, show_default=True, help="Hosts Ansible works on at once."
)
@output_option()
def inspect(
    inventory: Path | None, change_id: str | None, forks: int, output: str, **selectors: tuple[str, ...]
) -> None:
    """Gather OS, hardware, packages, pending updates, disks, uptime, key
    services and recent log lines from each selected host, and store them as
    its asset record (see: ccops host show HOST).

    Read-only on the hosts; touches active and retiring hosts.
    """
    from ccops.run import RunRequest, run_verb
    from ccops.runner.progress import Progress

    request = RunRequest(
        resolve_inventory(inventory), "inspect", build_selector(**selectors), change_id=change_id, forks=forks
    )
    result = run_verb(request, Progress(enabled=output == "text"))
    if output == "json":
        emit_json({**result.as_dict(), "reports": result.reports})
    else:
        click.echo(summary_table(result))
        click.echo(
            f"run {result.run_id}: {result.status}; details: ccops runs show {result.run_id}; "
            "one host: ccops host show HOST"
        )
    sys.exit(result.exit_code)


def summary_table(result: RunResult) -> str:
    rows = []
    for outcome in result.hosts:
        report = result.reports.get(outcome.host) or {}
        os_info = report.get("os") or {}
        updates = report.get("updates") or {}
        root: dict[str, Any] = next((d for d in report.get("disks") or [] if d.get("mount") in ("/", "C:")), {})
        rows.append(
            [
                outcome.host,
                outcome.outcome,
                f"{os_info.get('distribution', '')} {os_info.get('version', '')}".strip() or "-",
                uptime(report.get("uptime_seconds")),
                (report.get("packages") or {}).get("count", "-"),
                f"{updates.get('pending', '-')} ({updates.get('security', '-')} sec)" if updates else "-",
                f"{root.get('used_pct', '-')}%" if root else "-",
                outcome.message or "",
            ]
        )
    return table(rows, ["HOST", "RESULT", "OS", "UPTIME", "PACKAGES", "PENDING UPDATES", "DISK /", "MESSAGE"])
