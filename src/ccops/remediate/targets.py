"""What to fix: the fixable rows of the vulns view that a snapshot holds, chosen by CVE or urgency."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ccops.vulns.classify import FIXABLE, URGENCY_ORDER, Row


@dataclass(frozen=True)
class Target:
    host: str
    site: str
    cve: str
    urgency: str
    package: str  # the installed binary package that carries the CVE
    installed: str
    fixing: str  # the first version that fixes it
    snapshot: str  # the newest snapshot holding the fix
    first_seen: str | None  # when a snapshot first offered the fix to this host


def at_least(urgency: str) -> tuple[str, ...]:
    """--urgency high means high and every more urgent level."""
    return URGENCY_ORDER[: URGENCY_ORDER.index(urgency) + 1] if urgency in URGENCY_ORDER else (urgency,)


def choose(rows: Iterable[Row], cves: tuple[str, ...], urgencies: tuple[str, ...]) -> tuple[list[Target], list[Row]]:
    """(targets, fixable rows no snapshot holds: the tracker knows a fix the site has not fetched)."""
    targets: list[Target] = []
    unheld: list[Row] = []
    for row in rows:
        if row.state != FIXABLE or (cves and row.cve not in cves) or (urgencies and row.urgency not in urgencies):
            continue
        if not row.snapshot or not row.fixing or not row.installed:
            unheld.append(row)
            continue
        targets.append(
            Target(
                row.host,
                row.site,
                row.cve,
                row.urgency,
                row.package,
                row.installed,
                row.fixing,
                row.snapshot,
                row.first_seen,
            )
        )
    targets.sort(key=lambda t: (t.site, t.host, t.cve, t.package))
    return targets, unheld
