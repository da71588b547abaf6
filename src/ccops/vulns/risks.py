"""The ``vuln_fixable`` risk: a fix a snapshot holds, not installed for longer than the site allows.

The limit is per urgency, in days, from the site's ``risk`` thresholds (``vuln_<urgency>_days``,
defaults below). Only changelog rows count: their age runs from the first snapshot that offered
the fix to the host; a fix the tracker knows but no snapshot holds has no age yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ccops.vulns.classify import FIXABLE, Row

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.report.risks import FleetState
    from ccops.store.records import Store

VULN_LIMIT_DEFAULTS: dict[str, float] = {
    "vuln_critical_days": 1,
    "vuln_emergency_days": 1,
    "vuln_high_days": 2,
    "vuln_medium_days": 14,
    "vuln_low_days": 30,
}
KIND = "vuln_fixable"


def limit_for(urgency: str, limits: Mapping[str, float]) -> float | None:
    key = f"vuln_{urgency}_days"
    if key not in VULN_LIMIT_DEFAULTS:
        return None
    return float(limits.get(key, VULN_LIMIT_DEFAULTS[key]))


def fixable_risks(rows: Iterable[Row], limits_of_site: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """One risk per host and CVE whose fix waits longer than its site's limit for the urgency."""
    out = []
    for row in rows:
        if row.state != FIXABLE or row.origin != "changelog" or row.age_days is None:
            continue
        limit = limit_for(row.urgency, limits_of_site.get(row.site, {}))
        if limit is None or row.age_days <= limit:
            continue
        out.append(
            {
                "site": row.site,
                "host": row.host,
                "kind": KIND,
                "detail": f"{row.cve} ({row.urgency}) in {row.package} {row.installed}: fixed by {row.fixing} in"
                f" snapshot {row.snapshot} for {row.age_days:.0f} days; the site allows {limit:g}",
                "cve": row.cve,
                "urgency": row.urgency,
                "package": row.package,
                "fixing": row.fixing,
                "snapshot": row.snapshot,
                "days": row.age_days,
            }
        )
    return out


def vuln_risks(
    inventory: Inventory, store: Store, sites: set[str] | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The vuln_fixable risks of the chosen sites' watched hosts (all sites by default), for ccops.report.risks."""
    from ccops.report.risks import (  # imported here: ccops.report.risks may import this module
        WATCHED_LIFECYCLES,
        thresholds,
    )
    from ccops.vulns.fleet import vuln_rows

    chosen = sites or set(inventory.sites)
    hosts = [h for h in inventory.hosts.values() if h.site in chosen and h.lifecycle in WATCHED_LIFECYCLES]
    return fixable_risks(vuln_rows(inventory, store, hosts, now), {s: thresholds(inventory, s) for s in chosen})


def with_vulns(state: FleetState, inventory: Inventory, store: Store) -> FleetState:
    """``state`` with the vuln_fixable risks of every site (fleet views: ccops risks, report, digest)."""
    state.vulns = vuln_risks(inventory, store, now=state.now)
    return state
