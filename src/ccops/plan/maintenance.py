"""Maintenance windows, judged in each site's own time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from ccops.inventory.model import Site
from ccops.inventory.variants import DAYS

__all__ = ["DAYS", "describe", "window_open"]  # DAYS read from here by schedules and plans; written once in variants.py


def window_open(site: Site, now: datetime | None = None) -> bool:
    """True when ``now`` falls in one of the site's windows; a site without windows is always closed.

    A window from HH:MM to the same HH:MM is a whole day.
    """
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(site.timezone))
    minutes = local.hour * 60 + local.minute
    today, yesterday = DAYS[local.weekday()], DAYS[(local.weekday() - 1) % 7]
    for window in site.maintenance_windows:
        if window["start"] is None or window["end"] is None:
            continue  # only in a site that failed validation: such an inventory is never run
        start, end = _minutes(window["start"]), _minutes(window["end"])
        days = window.get("days") or DAYS
        if start == end and today in days:  # 00:00-00:00: the whole day
            return True
        if start < end and today in days and start <= minutes < end:
            return True
        # a window past midnight (22:00-04:00) belongs to the day it starts on
        if start > end and ((today in days and minutes >= start) or (yesterday in days and minutes < end)):
            return True
    return False


def describe(site: Site, now: datetime | None = None) -> str:
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(site.timezone))
    windows = (
        "; ".join(f"{','.join(w.get('days') or DAYS)} {w['start']}-{w['end']}" for w in site.maintenance_windows)
        or "none declared"
    )
    return (
        f"maintenance window closed at site {site.code} ({local:%a %H:%M} {site.timezone}; "
        f"windows: {windows}); --emergency overrides"
    )


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)
