"""What decides the night, for a plan: gates, maintenance windows, reboot policy, package source, offline.

Computed from the inventory and the run's own options, never from a host; the plan's renderers
show it (text, markdown, JSON) and the confirmation shows its compact form.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ccops.inventory.model import Site
from ccops.plan.build import Plan
from ccops.plan.gates import CANARY, max_fail_percentage
from ccops.plan.maintenance import DAYS, window_open


def night(plan: Plan, now: datetime | None = None) -> dict[str, Any]:
    """Per site of the plan: gates, windows (in site time; open now or when they open), package source."""
    now = now or datetime.now(UTC)
    sites = sorted({h.site for h in plan.hosts})
    changes = plan.verb.changes_hosts
    out: dict[str, Any] = {
        "summary": summary_line(plan),
        "offline": plan.inventory.offline,
        "emergency": plan.emergency,
        "sites": {},
    }
    if changes:
        reboot = plan.verb.reboot_option
        out["reboot"] = (plan.run_options.get(reboot.extravar) or reboot.default) if reboot else None
    for code in sites:
        site = plan.inventory.sites[code]
        entry: dict[str, Any] = {"timezone": site.timezone}
        if changes:
            entry["gates"] = _gates(site)
            entry["windows"] = _windows(site, now)
        if source := _package_source(plan, code):
            entry["packages"] = source
        out["sites"][code] = entry
    return out


def summary_line(plan: Plan) -> str:
    """One line: "1,359 hosts in 4 waves, 29 batches; 1 not touched"."""
    batches = sum(len(w.batches) for w in plan.waves)
    untouched = sum(len(hosts) for hosts in plan.excluded.values())
    return (
        f"{len(plan.hosts):,} host{'s' if len(plan.hosts) != 1 else ''} in {len(plan.waves)} "
        f"wave{'s' if len(plan.waves) != 1 else ''}, {batches} batch{'es' if batches != 1 else ''}; "
        f"{untouched:,} not touched"
    )


def _gates(site: Site) -> dict[str, Any]:
    canary_limit, canary_default = max_fail_percentage(site.rollout, CANARY)
    wave_limit, wave_default = max_fail_percentage(site.rollout, "wave")
    return {
        "canary": site.rollout.get("canary", 0),
        "canary_max_fail_percentage": canary_limit,
        "max_fail_percentage": wave_limit,
        "default": canary_default and wave_default,  # ccops's defaults, not the site's own
        "max_failures": site.rollout.get("max_failures"),
    }


def _windows(site: Site, now: datetime) -> dict[str, Any]:
    local = now.astimezone(ZoneInfo(site.timezone))
    declared = [f"{','.join(w.get('days') or DAYS)} {w['start']}-{w['end']}" for w in site.maintenance_windows]
    opens = None if window_open(site, now) else _next_opening(site, now)
    return {
        "declared": declared,
        "site_time": f"{local:%a %H:%M}",
        "open_now": opens is None and bool(declared),
        "opens_at": f"{opens:%a %Y-%m-%d %H:%M}" if opens else None,
    }


def _next_opening(site: Site, now: datetime) -> datetime | None:
    """When the next window starts, in site time (None: the site declares none)."""
    local = now.astimezone(ZoneInfo(site.timezone)).replace(second=0, microsecond=0)
    starts = []
    for window in site.maintenance_windows:
        if window["start"] is None:
            continue
        hours, minutes = (int(p) for p in window["start"].split(":"))
        for offset in range(8):
            day = local + timedelta(days=offset)
            start = day.replace(hour=hours, minute=minutes)
            if start > local and DAYS[start.weekday()] in (window.get("days") or DAYS):
                starts.append(start)
                break
    return min(starts) if starts else None


def _package_source(plan: Plan, site: str) -> str | None:
    if not plan.verb.package_source:
        return None
    hosts = {h.name for h in plan.hosts if h.site == site}
    entries = plan.content.get("patch_content") or {}
    snapshots = sorted({str(e["snapshot"]) for name, e in entries.items() if name in hosts})
    if snapshots:
        return "approved snapshot " + ", ".join(snapshots)
    return "the site's configured archive (no approved snapshot)"


def night_lines(data: dict[str, Any]) -> list[str]:
    """The compact form people read: one line per site, then reboot and offline."""
    out = []
    if data.get("offline"):
        out.append("inventory is OFFLINE (planning only): a run against it is refused")
    if data.get("reboot"):
        out.append(f"reboot: {data['reboot']}" + ("; EMERGENCY: windows ignored" if data.get("emergency") else ""))
    for code, entry in data["sites"].items():
        parts = [code]
        if gates := entry.get("gates"):
            parts.append(
                f"gates: canary {gates['canary']} (max fail {gates['canary_max_fail_percentage']:g}%), "
                f"waves max fail {gates['max_fail_percentage']:g}%"
                + (" (ccops default)" if gates["default"] else "")
                + (f", max failures {gates['max_failures']}" if gates["max_failures"] is not None else "")
            )
        if windows := entry.get("windows"):
            when = (
                "open now"
                if windows["open_now"]
                else (f"opens {windows['opens_at']}" if windows["opens_at"] else "none declared: always closed")
            )
            parts.append(
                f"window {when} ({'; '.join(windows['declared']) or '-'}; site time {windows['site_time']} "
                f"{entry['timezone']})"
            )
        if entry.get("packages"):
            parts.append(f"packages from {entry['packages']}")
        out.append("; ".join(parts))
    return out
