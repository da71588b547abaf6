"""What the morning page compares against: per site, counts over the stored history, read as aggregates.

The store keeps a summary of every inspection for 90 days. The page needs, per site and local
day, how many hosts were inspected and how many runs failed (SQL aggregates: the host -> site
map is one bound JSON parameter, no summary is parsed), and the same few numbers a day and a
week ago (each host's newest summary at or before that moment: one indexed lookup per host).
Days are cut at the site's current UTC offset.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ccops.hostdata import read_summary
from ccops.hostdata.asset import SUMMARY
from ccops.hostdata.kinds import Text
from ccops.report.risks import RUN_PROBLEMS, WATCHED_LIFECYCLES, thresholds
from ccops.store.asset_history import summary_text

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.store.records import Store

TREND_DAYS = 14
MOMENT_FIELDS = ("collected", "security_since")  # what a moment's numbers read of a summary
MOMENTS = {"yesterday": 1, "last_week": 7}  # days before now
PROBLEMS = json.dumps(list(RUN_PROBLEMS))  # bound as one parameter: the query text stays constant

DAILY_INSPECTED = (
    "SELECT json_extract(j.value, '$[0]'), date(v.collected, json_extract(j.value, '$[1]')), COUNT(DISTINCT v.host)"
    " FROM json_each(?) j JOIN asset_versions v ON v.host = j.key WHERE v.collected >= ? GROUP BY 1, 2"
)
# the hosts of the failed runs since a time: the runs first (a window holds few), their hosts by the
# primary key; never every result each host ever had, which grows with every night kept
FAILED_HOSTS = (
    "SELECT r.id, r.started, h.host FROM runs r CROSS JOIN host_results h ON h.run_id = r.id"
    " WHERE r.started >= ? AND r.status IN (SELECT value FROM json_each(?))"
)
NEWEST_AT = (  # each host's newest inspection at or before a moment: one index seek a host, its row by rowid
    "SELECT a.host, v.summary FROM json_each(?) j JOIN assets a ON a.host = j.key JOIN asset_versions v ON v.rowid ="
    " (SELECT w.rowid FROM asset_versions w WHERE w.host = a.host AND w.collected <= ? ORDER BY w.collected DESC"
    " LIMIT 1)"
)


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _offset(timezone: str, now: datetime) -> int:
    """The site's UTC offset now, in minutes."""
    delta = now.astimezone(ZoneInfo(timezone)).utcoffset() or timedelta(0)
    return int(delta.total_seconds() // 60)


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def read_trends(store: Store, inventory: Inventory, sites: list[str], now: datetime) -> dict[str, dict[str, Any]]:
    """Per site: ``days`` (oldest first: local day, hosts inspected, failed runs) and ``then``
    (per moment of MOMENTS: hosts inspected within the site's not_seen_days, hosts overdue on
    security, failed runs in the 24 hours before it); only watched hosts count."""
    watched = {
        h.name: h.site for h in inventory.hosts.values() if h.site in sites and h.lifecycle in WATCHED_LIFECYCLES
    }
    offsets = {code: _offset(inventory.sites[code].timezone, now) for code in sites}
    site_map = json.dumps({name: [site, f"{offsets[site]:+d} minutes"] for name, site in watched.items()})
    plain_map = json.dumps(watched)
    since = _iso(now - timedelta(days=TREND_DAYS + 1))  # before every moment's day too
    moments = {name: now - timedelta(days=days) for name, days in MOMENTS.items()}

    def read(db: sqlite3.Connection) -> tuple[list[Any], list[Any], dict[str, list[Any]]]:
        inspected = db.execute(DAILY_INSPECTED, (site_map, since)).fetchall()
        failed_hosts = db.execute(FAILED_HOSTS, (since, PROBLEMS)).fetchall()
        newest = {name: db.execute(NEWEST_AT, (plain_map, _iso(at))).fetchall() for name, at in moments.items()}
        return inspected, failed_hosts, newest

    inspected, failed_hosts, newest = store.db.read(read)
    failed, failed_then = _failures(failed_hosts, watched, offsets, moments)
    then: dict[str, dict[str, Any]] = {code: {} for code in sites}
    for name, at in moments.items():
        counts = _snapshot(newest[name], watched, inventory, at)
        failures = {str(site): int(n) for site, n in failed_then[name]}
        for code in sites:
            then[code][name] = {**counts.get(code, _zero()), "failed_runs": failures.get(code, 0)}
    return {code: {"days": _days(code, inspected, failed, now, inventory), "then": then[code]} for code in sites}


def _failures(
    rows: list[Any], watched: dict[str, str], offsets: dict[str, int], moments: dict[str, datetime]
) -> tuple[list[tuple[str, str, int]], dict[str, list[tuple[str, int]]]]:
    """From (run, started, host) of failed runs: per (site, its local day) the failed runs that touched a
    watched host of the site, and per moment the same in the 24 hours before it (times compared as stored)."""
    by_day: dict[tuple[str, str], set[str]] = {}
    by_moment: dict[str, dict[str, set[str]]] = {name: {} for name in moments}
    bounds = {name: (_iso(at - timedelta(days=1)), _iso(at)) for name, at in moments.items()}
    for run_id, started, host in rows:
        site = watched.get(str(host))
        when = _time(started)
        if site is None or when is None:
            continue
        day = (when.astimezone(UTC) + timedelta(minutes=offsets[site])).date().isoformat()
        by_day.setdefault((site, day), set()).add(str(run_id))
        for name, (after, until) in bounds.items():
            if after < str(started) <= until:
                by_moment[name].setdefault(site, set()).add(str(run_id))
    failed = [(site, day, len(runs)) for (site, day), runs in by_day.items()]
    return failed, {name: [(site, len(runs)) for site, runs in sites.items()] for name, sites in by_moment.items()}


def _zero() -> dict[str, int]:
    return {"inspected": 0, "security_overdue": 0}


def _days(code: str, inspected: list[Any], failed: list[Any], now: datetime, inventory: Inventory) -> list[Any]:
    today = now.astimezone(ZoneInfo(inventory.sites[code].timezone)).date()
    days = [(today - timedelta(days=n)).isoformat() for n in range(TREND_DAYS - 1, -1, -1)]
    seen = {str(day): int(n) for site, day, n in inspected if site == code}
    broken = {str(day): int(n) for site, day, n in failed if site == code}
    return [{"day": d, "inspected": seen.get(d, 0), "failed_runs": broken.get(d, 0)} for d in days]


def _snapshot(
    rows: list[Any], watched: dict[str, str], inventory: Inventory, at: datetime
) -> dict[str, dict[str, int]]:
    """Per site, from each host's newest summary at ``at``: inspected recently enough, overdue on security."""
    out: dict[str, dict[str, int]] = {}
    for host, text in rows:
        site = watched.get(str(host))
        if site is None:
            continue
        summary = _summary(text)
        limits = thresholds(inventory, site)
        counts = out.setdefault(site, _zero())
        seen, since = _time(summary.get("collected")), _time(summary.get("security_since"))
        if seen is not None and _age(at, seen) < limits["not_seen_days"]:
            counts["inspected"] += 1
        if since is not None and _age(at, since) > limits["security_pending_days"]:
            counts["security_overdue"] += 1
    return out


def _age(later: datetime, earlier: datetime) -> float:
    if earlier.tzinfo is None:
        earlier = earlier.replace(tzinfo=later.tzinfo)
    return (later - earlier).total_seconds() / 86400


def _summary(text: Any) -> dict[str, Any]:
    """Only the two fields a moment's numbers read, in the summary's declared shape; damaged: nothing."""
    try:
        data = json.loads(summary_text(text))
    except (TypeError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    wanted = {k: data[k] for k in MOMENT_FIELDS if k in data}
    if isinstance(wanted.get("collected"), str) and all(v is None or _plain(k, v) for k, v in wanted.items()):
        return wanted  # text that fits as it is: what the declared shape's parse returns, without its cost
    clean = read_summary(wanted)
    return {} if clean.get("damaged") else clean


def _plain(field: str, value: Any) -> bool:
    kind = SUMMARY.fields[field]
    return isinstance(kind, Text) and kind.plain(value)


def local_time(value: Any, timezone: str) -> str:
    """An ISO time from the store as the site reads it ('2026-12-07 06:00 CST'); text kept when not a time."""
    when = _time(value)
    if when is None or when.tzinfo is None:
        return "-" if value is None else str(value)
    return when.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")
