"""When a schedule fires: in its site's time zone, as systemd's OnCalendar= will fire it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ccops.errors import CcopsError
from ccops.inventory.model import Site
from ccops.plan.maintenance import DAYS
from ccops.schedule.model import Schedule

# systemd takes the zone as the last word of OnCalendar=; only plain tz database names go there
ZONE_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")
SYSTEMD_DAYS = {day: day.capitalize() for day in DAYS}  # systemd's OnCalendar spelling


@dataclass(frozen=True)
class Slot:
    """One weekly time a schedule fires at: site-local days and HH:MM."""

    days: tuple[str, ...]
    at: str


def slots(schedule: Schedule, site: Site) -> list[Slot]:
    """A timed schedule's one slot, or one per maintenance window (its start, on the schedule's days)."""
    if not schedule.window:
        return [Slot(schedule.days, schedule.at or "00:00")]
    out = []
    for window in site.maintenance_windows:
        days = tuple(d for d in (window.get("days") or DAYS) if d in schedule.days)
        if window["start"] is not None and days:
            out.append(Slot(days, window["start"]))
    return out


def firings(schedule: Schedule, site: Site, start: datetime, days: int) -> list[datetime]:
    """Every firing from ``start`` (inclusive) over the next ``days`` days, in site time, in order."""
    zone = ZoneInfo(site.timezone)
    local_start = start.astimezone(zone)
    end = start + timedelta(days=days)
    found: set[datetime] = set()
    for offset in range(days + 1):
        day: date = local_start.date() + timedelta(days=offset)
        for slot in slots(schedule, site):
            if DAYS[day.weekday()] not in slot.days:
                continue
            hours, minutes = (int(p) for p in slot.at.split(":"))
            moment = datetime.combine(day, time(hours, minutes), zone)
            if start <= moment < end:
                found.add(moment)
    return sorted(found, key=lambda m: m.astimezone(UTC))


def on_calendar(schedule: Schedule, site: Site) -> list[str]:
    """The OnCalendar= values of the schedule's timer, each with the site's zone."""
    if not ZONE_PATTERN.fullmatch(site.timezone):
        raise CcopsError(f"{site.file}: time zone {site.timezone[:40]!r} cannot be written into a systemd timer")
    out = []
    for slot in slots(schedule, site):
        weekdays = "" if set(slot.days) == set(DAYS) else ",".join(SYSTEMD_DAYS[d] for d in slot.days) + " "
        out.append(f"{weekdays}*-*-* {slot.at}:00 {site.timezone}")
    return out
