"""How a run's results print for people: one table per kind of verb, and the run's closing line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ccops.cli.output import duration, echo, emit_json, table, uptime
from ccops.runner.events import OUTCOME_DAMAGED

if TYPE_CHECKING:  # imported where used: ccops --help must not load it
    from ccops.run.request import RunResult


def print_result(result: RunResult, output: str, report: str, shown: Callable[[RunResult], str] | None = None) -> None:
    """JSON for pipelines; for people the verb's table, the waves of a changing run, one closing line.

    Exits with the run's exit code (the table in ccops.errors).
    """
    if output == "json":
        emit_json({**result.as_dict(), "reports": result.reports})
        sys.exit(result.exit_code)
    echo((shown or TABLES.get(report, hosts_table))(result))
    if report in ("changes", "software"):
        echo("")
        echo(waves_table(result))
    message = f" ({result.message})" if result.message else ""
    echo(
        f"run {result.run_id}: {result.status}{message}; details: ccops runs show {result.run_id}"
        + ("; one host: ccops host show HOST" if report == "assets" else "")
    )
    sys.exit(result.exit_code)


def hosts_table(result: RunResult) -> str:
    return table(
        [[o.host, o.outcome, o.changed, duration(_seconds(o.started, o.ended)), o.message or ""] for o in result.hosts],
        ["HOST", "RESULT", "CHANGED", "TIME", "MESSAGE"],
    )


def waves_table(result: RunResult) -> str:
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
    return table(rows, ["WAVE", "SITE", "HOSTS", "RESULTS", "WAVE TIME"])


def assets_table(result: RunResult) -> str:
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


def changes_table(result: RunResult) -> str:
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


def software_table(result: RunResult) -> str:
    rows = []
    for outcome in result.hosts:
        report = result.reports.get(outcome.host) or {}
        changes = report.get("changes") or []
        rows.append(
            [
                outcome.host,
                outcome.outcome,
                "; ".join(
                    f"{c.get('app')} {c.get('action')} {c.get('from') or '-'} -> {c.get('to') or '-'}" for c in changes
                )
                or "-",
                _health(report),
                report.get("rebaseline") or "-",
                duration(_seconds(outcome.started, outcome.ended)),
                outcome.message or "",
            ]
        )
    return table(rows, ["HOST", "RESULT", "CHANGES", "HEALTH", "REBASELINE", "TIME", "MESSAGE"])


def compliance_table(result: RunResult) -> str:
    """One line per deviation (host, policy, what is wrong); one line for a host without any."""
    rows = []
    for outcome in result.hosts:
        report = result.reports.get(outcome.host) or {}
        deviations = report.get("deviations") or []
        for deviation in deviations:
            rows.append([outcome.host, "DEVIATES", deviation.get("policy", ""), deviation.get("detail", "")])
        if outcome.outcome == OUTCOME_DAMAGED:  # what it said did not fit: never shown as compliant or fixed
            rows.append([outcome.host, outcome.outcome, "-", outcome.message or ""])
            continue
        if deviations:
            continue
        if "policies" not in report:  # never checked (unreachable, a pre-check refused, ...)
            rows.append([outcome.host, outcome.outcome, "-", outcome.message or ""])
        elif report.get("fixed"):
            rows.append(
                [
                    outcome.host,
                    "fixed",
                    ", ".join(dict.fromkeys(d.get("policy", "?") for d in report["fixed"])),
                    f"{len(report['fixed'])} deviation(s) fixed; now in policy",
                ]
            )
        else:
            rows.append([outcome.host, "compliant", ", ".join(report["policies"]), ""])
    return table(rows, ["HOST", "RESULT", "POLICY", "DETAIL"])


TABLES = {
    "assets": assets_table,
    "changes": changes_table,
    "hosts": hosts_table,
    "compliance": compliance_table,
    "software": software_table,
}
