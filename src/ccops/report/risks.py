"""The early-warning risk list, from the store's records and each site's thresholds.

A risk is one line a site manager acts on: security updates pending longer than
the site allows, a disk above its threshold or growing fast, a host not seen
for days (or never inspected), a failed service, a host out of policy, a run
that failed or halted. Hosts in state ``planned`` or ``retired`` are never
contacted and carry no risk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ccops.hooks import fleet_risks
from ccops.report.held import held_risks
from ccops.report.reverted import by_host, stored_time
from ccops.report.reverted import host_risks as reverted_risks
from ccops.report.unknown import unknown_risks

if TYPE_CHECKING:
    from ccops.inventory.model import Host, Inventory
    from ccops.report.reverted import Finding
    from ccops.store.holds import Hold
    from ccops.store.records import RunRecord, Store

# thresholds a site file may set under site.risk (validated in inventory/site_file.py)
RISK_DEFAULTS: dict[str, float] = {
    "security_pending_days": 7,  # a security update pending longer than this many days
    "disk_used_pct": 90,  # a disk at least this full
    "disk_growth_pct_per_day": 5,  # a disk whose use grew by this many points a day (over up to 7 days)
    "not_seen_days": 2,  # no inspection for this many days
    "runs_days": 7,  # runs that failed or halted in the last this many days
}
GROWTH_WINDOW_DAYS = 7
WATCHED_LIFECYCLES = ("active", "retiring")
RUN_PROBLEMS = ("failed", "halted", "interrupted", "damaged")
# order of the list: what needs a person first
KINDS = (
    "run_problem",
    "reverted",
    "held",
    "unknown_device",
    "service_failed",
    "out_of_policy",
    "security_overdue",
    "vuln_fixable",
    "disk_full",
    "disk_growing",
    "not_seen",
    "notify_undelivered",
)


@dataclass
class FleetState:
    """What fleet views read from the store, once: latest summaries, recent history, compliance, runs.

    ``recent``: per host, the first inspection of the growth window and, if another, the latest.
    """

    now: datetime
    latest: dict[str, dict[str, Any]]
    recent: dict[str, list[dict[str, Any]]]
    compliance: dict[str, dict[str, Any]]
    runs: list[RunRecord] = field(default_factory=list)
    reverted: dict[str, Finding] = field(default_factory=dict)  # host -> its reverted finding (ccops.report.reverted)
    # fleet-wide risks of the sources ccops.hooks holds (notify: reports the outbox still holds past their limit)
    undelivered: list[dict[str, Any]] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)  # every quarantine hold, lifted ones too (ccops.quarantine)
    vulns: list[dict[str, Any]] = field(default_factory=list)  # vuln_fixable risks (ccops.vulns.risks.with_vulns)


def load_state(store: Store, now: datetime | None = None, runs_days: float = 30) -> FleetState:
    """The fleet as the store has it (the CVE risks, ``vulns``, are added by ccops.vulns.risks.with_vulns)."""
    from ccops.store.holds import holds

    now = now or datetime.now(UTC)
    window = (now - timedelta(days=GROWTH_WINDOW_DAYS)).isoformat(timespec="seconds")
    latest = store.latest_summaries()
    recent = {  # a trend reads the window's first and last inspection only: never every summary
        host: [first] if first["run_id"] == latest[host].get("run_id") else [first, latest[host]]
        for host, first in store.window_starts(window).items()
        if host in latest
    }
    return FleetState(
        now=now,
        latest=latest,
        recent=recent,
        compliance=store.compliance(),
        runs=store.runs_since((now - timedelta(days=runs_days)).isoformat(timespec="seconds")),
        reverted=by_host(store),
        undelivered=fleet_risks(now),
        holds=holds(store, active=False),
    )


def thresholds(inventory: Inventory, site: str) -> dict[str, float]:
    declared = inventory.sites[site].risk if site in inventory.sites else {}
    return {**RISK_DEFAULTS, **declared}


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400


def _used(disk: dict[str, Any]) -> float | None:
    size, free = disk.get("size_mb"), disk.get("free_mb")
    if isinstance(size, int | float) and isinstance(free, int | float) and size > 0:
        return 100 * (size - free) / size
    return None


def _risk(host: Host | None, site: str | None, kind: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"site": site, "host": host.name if host else None, "kind": kind, "detail": detail, **extra}


def host_risks(host: Host, state: FleetState, limits: dict[str, float]) -> list[dict[str, Any]]:
    """Every risk of one host, from its newest inspection, its recent history and its compliance."""
    out: list[dict[str, Any]] = []
    latest = state.latest.get(host.name)
    site = host.site
    if latest is None:
        return [_risk(host, site, "not_seen", "never inspected", days=None)]
    seen = stored_time(latest.get("collected"))
    if seen is not None and _days(state.now, seen) >= limits["not_seen_days"]:
        days = _days(state.now, seen)
        out.append(_risk(host, site, "not_seen", f"last inspected {days:.1f} days ago", days=round(days, 1)))
    since = stored_time(latest.get("security_since"))
    if since is not None and _days(state.now, since) > limits["security_pending_days"]:
        days = _days(state.now, since)
        out.append(
            _risk(
                host,
                site,
                "security_overdue",
                f"{latest.get('security')} security update(s) pending since {latest['security_since']}"
                f" ({days:.0f} days; the site allows {limits['security_pending_days']:g})" + _names(latest),
                days=round(days, 1),
            )
        )
    for disk in latest.get("disks") or []:
        used = _used(disk)
        if used is not None and used >= limits["disk_used_pct"]:
            out.append(
                _risk(
                    host,
                    site,
                    "disk_full",
                    f"{disk.get('mount')} {used:.0f}% used ({disk.get('free_mb')} MB free;"
                    f" threshold {limits['disk_used_pct']:g}%)",
                    mount=disk.get("mount"),
                    used_pct=round(used, 1),
                )
            )
    out += _growth(host, state, limits)
    for service in latest.get("services") or []:
        if service.get("state") == "failed":
            out.append(
                _risk(host, site, "service_failed", f"{service.get('name')} failed", service=service.get("name"))
            )
    compliance = state.compliance.get(host.name)
    if compliance and compliance["deviations"]:
        policies = sorted({d["policy"] for d in compliance["deviations"]})
        out.append(
            _risk(
                host,
                site,
                "out_of_policy",
                f"{len(compliance['deviations'])} deviation(s): {', '.join(policies)} (run {compliance['run_id']})",
                policies=policies,
            )
        )
    out += reverted_risks(host, state.reverted)
    return out


def _names(latest: dict[str, Any]) -> str:
    names = [str(n) for n in latest.get("security_names") or []]
    more = (latest.get("security") or 0) - len(names)
    return (": " + ", ".join(names) + (f" and {more} more" if more > 0 else "")) if names else ""


def _growth(host: Host, state: FleetState, limits: dict[str, float]) -> list[dict[str, Any]]:
    """Disks whose use grew faster than the site allows, between the window's first and last inspection.

    A growth seen within less than a day counts as that day's growth (never extrapolated upwards).
    """
    versions = state.recent.get(host.name) or []
    if len(versions) < 2:
        return []
    first, last = versions[0], versions[-1]
    start, end = stored_time(first.get("collected")), stored_time(last.get("collected"))
    if start is None or end is None:
        return []
    days = max(_days(end, start), 1.0)
    before = {d.get("mount"): _used(d) for d in first.get("disks") or []}
    out = []
    for disk in last.get("disks") or []:
        now_used, then_used = _used(disk), before.get(disk.get("mount"))
        if now_used is None or then_used is None:
            continue
        rate = (now_used - then_used) / days
        if rate >= limits["disk_growth_pct_per_day"] and rate > 0:
            out.append(
                _risk(
                    host,
                    host.site,
                    "disk_growing",
                    f"{disk.get('mount')} grew {now_used - then_used:.1f} points to {now_used:.0f}% since"
                    f" {first.get('collected')} ({rate:.1f} a day; threshold {limits['disk_growth_pct_per_day']:g})",
                    mount=disk.get("mount"),
                    per_day=round(rate, 1),
                )
            )
    return out


def run_risks(inventory: Inventory, state: FleetState, sites: set[str]) -> list[dict[str, Any]]:
    """Runs that failed, halted or were interrupted within their sites' look-back, one line per run and site."""
    out = []
    for run in state.runs:
        if run.status not in RUN_PROBLEMS:
            continue
        started = stored_time(run.started)
        touched = sorted({inventory.hosts[h["host"]].site for h in run.hosts if h.get("host") in inventory.hosts})
        sites_of_run: list[str | None] = [*touched] or [None]  # None: a run that reached no known host
        for site in sites_of_run:
            if site is not None and site not in sites:
                continue
            if site is None and len(sites) < len(inventory.sites):
                continue  # a run that reached no known host belongs to no one site's list
            limit = thresholds(inventory, site)["runs_days"] if site else RISK_DEFAULTS["runs_days"]
            if started is None or _days(state.now, started) > limit:
                continue
            failing = [h["host"] for h in run.hosts if _run_failure(h)]
            if not failing and run.status == "failed":
                continue  # every failure was a host out of policy: listed per host as out_of_policy
            detail = f"{run.verb} run {run.id} {run.status}" + (f": {run.message}" if run.message else "")
            out.append(
                {
                    "site": site,
                    "host": None,
                    "kind": "run_problem",
                    "detail": detail,
                    "run_id": run.id,
                    "hosts": [h for h in failing if site is None or _site_of(inventory, h) == site],
                }
            )
    return out


DAMAGED = "damaged"


def _run_failure(host: dict[str, Any]) -> bool:
    """A host the run failed on; a comply host that "failed" for its deviations is out of policy, not a failed run."""
    if host.get("outcome") not in ("failed", "unreachable", DAMAGED):
        return False
    return not (host.get("outcome") == "failed" and (host.get("report") or {}).get("deviations"))


def _site_of(inventory: Inventory, name: str) -> str | None:
    host = inventory.hosts.get(name)
    return host.site if host else None


def risk_list(inventory: Inventory, state: FleetState, sites: set[str] | None = None) -> list[dict[str, Any]]:
    """Every risk of the chosen sites (all by default), most urgent kinds first, then site and host."""
    chosen = sites or set(inventory.sites)
    out: list[dict[str, Any]] = []
    for host in inventory.hosts.values():
        if host.site in chosen and host.lifecycle in WATCHED_LIFECYCLES:
            out += host_risks(host, state, thresholds(inventory, host.site))
    out += run_risks(inventory, state, chosen)
    out += held_risks(inventory, state.holds, chosen)
    out += unknown_risks(inventory, state.latest, chosen)
    out += [r for r in state.vulns if r["site"] in chosen]
    out += state.undelivered  # the fleet's, not a site's: shown whatever sites are chosen
    order = {kind: i for i, kind in enumerate(KINDS)}
    out.sort(key=lambda r: (order[r["kind"]], r["site"] or "", r["host"] or "", r.get("run_id") or ""))
    return out
