"""The morning report's numbers: one document that the JSON, CSV and HTML forms all come from.

Everything the HTML page shows is a value of this document (the page marks each
number with its path in it, ``data-key``), so the JSON report holds every
number the page shows.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ccops.report.held import held_apart
from ccops.report.risks import KINDS, RUN_PROBLEMS, WATCHED_LIFECYCLES, FleetState, risk_list, thresholds
from ccops.report.trends import MOMENTS, local_time
from ccops.text.safe_text import visible

if TYPE_CHECKING:
    from ccops.inventory.model import Host, Inventory

RECENT_RUNS = 20
# disk use buckets (percent used, upper bounds inclusive) for the fleet's disk plot
DISK_BUCKETS = ((50, "0-50%"), (70, "51-70%"), (85, "71-85%"), (95, "86-95%"), (100, "96-100%"))
CSV_COLUMNS = (
    "host",
    "site",
    "role",
    "os",
    "lifecycle",
    "last_inspected",
    "pending_updates",
    "security_updates",
    "security_pending_since",
    "fullest_disk",
    "fullest_disk_used_pct",
    "compliance",
    "deviations",
    "risks",
)


def _used(disk: dict[str, Any]) -> float | None:
    size, free = disk.get("size_mb"), disk.get("free_mb")
    if isinstance(size, int | float) and isinstance(free, int | float) and size > 0:
        return round(100 * (size - free) / size, 1)
    return None


def _bucket(used: float) -> str:
    return next(label for limit, label in DISK_BUCKETS if used <= limit or limit == 100)


def host_row(host: Host, state: FleetState, risks: int) -> dict[str, Any]:
    latest = state.latest.get(host.name) or {}
    disks: list[tuple[Any, float]] = []
    for disk in latest.get("disks") or []:
        used = _used(disk)
        if used is not None:
            disks.append((disk.get("mount"), used))
    fullest: tuple[Any, float | None] = max(disks, key=lambda d: d[1]) if disks else (None, None)
    compliance = state.compliance.get(host.name)
    if compliance is None:
        verdict, deviations = "never checked", None
    else:
        deviations = len(compliance["deviations"])
        verdict = "out of policy" if deviations else "in policy"
    return {
        "host": host.name,
        "site": host.site,
        "role": host.role,
        "os": host.os,
        "lifecycle": host.lifecycle,
        "last_inspected": latest.get("collected"),
        "pending_updates": latest.get("pending"),
        "security_updates": latest.get("security"),
        "security_pending_since": latest.get("security_since"),
        "fullest_disk": fullest[0],
        "fullest_disk_used_pct": fullest[1],
        "compliance": verdict,
        "deviations": deviations,
        "risks": risks,
    }


def _site_summary(
    code: str, inventory: Inventory, rows: list[dict[str, Any]], risks: list[dict[str, Any]]
) -> dict[str, Any]:
    site = inventory.sites[code]
    watched = [r for r in rows if r["lifecycle"] in WATCHED_LIFECYCLES]
    inspected = [r for r in watched if r["last_inspected"]]
    compliance = Counter(r["compliance"] for r in watched)
    disks = Counter(_bucket(r["fullest_disk_used_pct"]) for r in inspected if r["fullest_disk_used_pct"] is not None)
    return {
        "code": code,
        "name": site.name,
        "city": site.city,
        "hosts": len(rows),
        "watched": len(watched),
        "inspected": len(inspected),
        "by_os": dict(sorted(Counter(r["os"] for r in rows).items())),
        "by_lifecycle": dict(sorted(Counter(r["lifecycle"] for r in rows).items())),
        "compliance": {k: compliance.get(k, 0) for k in ("in policy", "out of policy", "never checked")},
        "patches": {
            "pending_updates": sum(r["pending_updates"] or 0 for r in inspected),
            "security_updates": sum(r["security_updates"] or 0 for r in inspected),
            "hosts_with_pending": sum(1 for r in inspected if r["pending_updates"]),
            "hosts_with_security": sum(1 for r in inspected if r["security_updates"]),
            "hosts_overdue": len({r["host"] for r in risks if r["kind"] == "security_overdue" and r["site"] == code}),
        },
        "disks": {label: disks.get(label, 0) for _, label in DISK_BUCKETS},
        "risks": sum(1 for r in risks if r["site"] == code),
        "thresholds": thresholds(inventory, code),
    }


def _run_row(run: Any) -> dict[str, Any]:
    outcomes: Counter[str] = Counter()
    for host in run.hosts:
        outcomes[host.get("outcome") or "?"] += 1
    return {
        "id": run.id,
        "verb": run.verb,
        "operator": run.operator,
        "change_id": run.change_id,
        "started": run.started,
        "ended": run.ended,
        "status": run.status,
        "hosts": sum(outcomes.values()),
        "outcomes": dict(sorted(outcomes.items())),
    }


def build_report(
    inventory: Inventory,
    state: FleetState,
    sites: list[str] | None = None,
    history: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report; ``history`` (report_trends.read_trends) adds each site's comparisons and trend lines."""
    chosen = sites or sorted(inventory.sites)
    risks = risk_list(inventory, state, set(chosen))
    per_host = Counter(r["host"] for r in risks if r["host"])
    hosts = [host_row(h, state, per_host.get(h.name, 0)) for h in inventory.hosts.values() if h.site in chosen]
    summaries = [_site_summary(code, inventory, [r for r in hosts if r["site"] == code], risks) for code in chosen]
    fleet = Counter((r["site"], r["os"]) for r in hosts)
    names = {r["host"] for r in hosts}
    runs = [r for r in state.runs if not r.hosts or any(h.get("host") in names for h in r.hosts)]
    return {
        "generated": state.now.isoformat(timespec="seconds"),
        "inventory": str(inventory.root),
        "sites": summaries,
        "fleet": [{"site": s, "os": o, "hosts": n} for (s, o), n in sorted(fleet.items())],
        "totals": _totals(summaries, risks),
        "risks": risks,
        "runs": [_run_row(r) for r in runs[:RECENT_RUNS]],
        "hosts": hosts,
        "morning": [_morning(s, inventory, risks, state, (history or {}).get(s["code"])) for s in summaries],
    }


# what would make a "worst" risk of a kind: the larger, the worse
WORST_BY = {"security_overdue": "days", "not_seen": "days", "disk_full": "used_pct", "disk_growing": "per_day"}


def _worst(risk: dict[str, Any]) -> float:
    value = risk.get(WORST_BY.get(risk["kind"], ""))
    return float(value) if isinstance(value, int | float) else float("inf")  # never inspected: worst of all


def _risk_kinds(risks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Risks grouped by kind (most urgent kind first), with their count and the worst of each kind."""
    out = []
    for kind in KINDS:
        of_kind = [r for r in risks if r["kind"] == kind]
        if of_kind:
            worst = max(of_kind, key=_worst)  # first of the ties: the list's own order
            out.append(
                {"kind": kind, "count": len(of_kind), "worst": {"host": worst["host"], "detail": worst["detail"]}}
            )
    return out


def _morning(
    site: dict[str, Any],
    inventory: Inventory,
    risks: list[dict[str, Any]],
    state: FleetState,
    history: dict[str, Any] | None,
) -> dict[str, Any]:
    """One site's first screen: the numbers that matter now, a day and a week ago, trend lines, risks by kind."""
    code = site["code"]
    timezone = inventory.sites[code].timezone
    mine = [r for r in risks if r["site"] == code]
    kinds = {k["kind"]: k["count"] for k in _risk_kinds(mine)}
    not_seen = len({r["host"] for r in mine if r["kind"] == "not_seen"})
    now = {
        "inspected": site["watched"] - not_seen,
        "in_policy": site["compliance"]["in policy"],
        "security_overdue": site["patches"]["hosts_overdue"],
        "reverted": kinds.get("reverted", 0),
        "held_apart": held_apart(state.holds, code, state.now),
        "failed_runs": _failed_last_day(state, inventory, code),
    }
    then = (history or {}).get("then", {})
    numbers = {key: {"now": value, **{m: _then(then.get(m), key) for m in MOMENTS}} for key, value in now.items()}
    for moment, days in MOMENTS.items():  # holds keep their history: the count at each moment is exact
        numbers["held_apart"][moment] = held_apart(state.holds, code, state.now - timedelta(days=days))
    return {
        "site": code,
        "timezone": timezone,
        "generated": local_time(state.now.isoformat(timespec="seconds"), timezone),
        "numbers": numbers,
        "trend": (history or {}).get("days", []),
        "risks": len(mine),
        "risk_kinds": _risk_kinds(mine),
    }


def _then(moment: dict[str, Any] | None, key: str) -> int | None:
    return None if moment is None else moment.get(key)  # in policy and reverted are not kept per day


def _failed_last_day(state: FleetState, inventory: Inventory, code: str) -> int:
    """Runs that failed, halted or were interrupted in the last 24 hours and reached this site's watched hosts."""
    since = state.now.timestamp() - 86400
    count = 0
    for run in state.runs:
        if run.status not in RUN_PROBLEMS or not _after(run.started, since):
            continue
        hosts = [inventory.hosts[h["host"]] for h in run.hosts if h.get("host") in inventory.hosts]
        if any(h.site == code and h.lifecycle in WATCHED_LIFECYCLES for h in hosts):  # as report_trends counts
            count += 1
    return count


def _after(value: Any, since: float) -> bool:
    try:
        return datetime.fromisoformat(str(value)).timestamp() > since
    except ValueError:
        return False


def _totals(summaries: list[dict[str, Any]], risks: list[dict[str, Any]]) -> dict[str, Any]:
    def total(*path: str) -> int:
        out = 0
        for site in summaries:
            value: Any = site
            for key in path:
                value = value[key]
            out += value
        return out

    return {
        "hosts": total("hosts"),
        "watched": total("watched"),
        "inspected": total("inspected"),
        "in_policy": total("compliance", "in policy"),
        "out_of_policy": total("compliance", "out of policy"),
        "never_checked": total("compliance", "never checked"),
        "pending_updates": total("patches", "pending_updates"),
        "security_updates": total("patches", "security_updates"),
        "hosts_with_security": total("patches", "hosts_with_security"),
        "hosts_overdue": total("patches", "hosts_overdue"),
        "risks": len(risks),
    }


def to_csv(report: dict[str, Any]) -> str:
    """One row per host, the columns of CSV_COLUMNS; values are written as text, never as formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["hosts"]:
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    text = visible(value)  # controls shown as escapes: a spreadsheet or terminal never obeys them
    # a spreadsheet runs a cell starting with = + - @ as a formula (their full-width forms too, which
    # some spreadsheets read as the same sign): host names come from site files, mounts from hosts
    return "'" + text if text[:1] in _FORMULA_STARTS else text


_FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
