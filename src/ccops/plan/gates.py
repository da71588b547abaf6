"""Rollout gates, computed by ccops from per-host results.

Ansible's max_fail_percentage is per batch, must be exceeded and treats
unreachable hosts in its own way; these gates are per wave and per site,
count unreachable and never-run hosts as failures, and add an absolute cap
for the whole run.

A site without ``rollout.max_fail_percentage`` is not left ungated: any failed
canary halts the run, and a later wave halts past DEFAULT_MAX_FAIL_PERCENTAGE.
A site that sets the key sets it for every wave, canary included.
"""

from __future__ import annotations

import math
from typing import Any

from ccops.inventory.model import Inventory
from ccops.plan.build import Wave
from ccops.runner.events import FAILING, HostOutcome

CANARY = "canary"  # the wave name ccops.plan.build gives a site's canary hosts
DEFAULT_CANARY_MAX_FAIL_PERCENTAGE = 0.0
DEFAULT_MAX_FAIL_PERCENTAGE = 10.0


def max_fail_percentage(rollout: dict[str, Any], wave_name: str) -> tuple[float, bool]:
    """The wave's limit, and whether it is ccops's default rather than the site's own."""
    limit = rollout.get("max_fail_percentage")
    if limit is None:
        return (DEFAULT_CANARY_MAX_FAIL_PERCENTAGE if wave_name == CANARY else DEFAULT_MAX_FAIL_PERCENTAGE), True
    if math.isnan(limit):
        return 0.0, False  # NaN compares false and would never trip: read it as "no failures"
    return float(limit), False


def gate_reason(
    inventory: Inventory, wave: Wave, wave_outcomes: list[HostOutcome], run_outcomes: list[HostOutcome]
) -> str | None:
    """Why the run must halt before its next batch, or None.

    Percentages are of each site's hosts in the whole wave, not of the batches run so far.
    """
    wave_sites: dict[str, int] = {}
    for batch in wave.batches:
        wave_sites[batch.site] = wave_sites.get(batch.site, 0) + len(batch.hosts)
    site_of = {h.name: b.site for b in wave.batches for h in b.hosts}
    wave_name = wave.name
    for site, total in wave_sites.items():
        limit, default = max_fail_percentage(inventory.sites[site].rollout, wave_name)
        failed = [o.host for o in wave_outcomes if site_of[o.host] == site and o.outcome in FAILING]
        if failed and 100 * len(failed) / total > limit:
            origin = (
                f", the default for a {'canary' if wave_name == CANARY else 'wave'}; a site sets its own "
                "with rollout.max_fail_percentage"
                if default
                else ""
            )
            return (
                f"{wave_name}: {len(failed)} of {total} host(s) at site {site} failed "
                f"({100 * len(failed) / total:.0f}% > max_fail_percentage {limit:g}%{origin}): "
                f"{', '.join(sorted(failed)[:5])}{' ...' if len(failed) > 5 else ''}"
            )
    caps = [
        inventory.sites[s].rollout["max_failures"] for s in wave_sites if "max_failures" in inventory.sites[s].rollout
    ]
    failed_total = sum(o.outcome in FAILING for o in run_outcomes)
    if caps and failed_total > min(caps):
        return f"{failed_total} host(s) failed in this run, more than max_failures {min(caps)}"
    return None
