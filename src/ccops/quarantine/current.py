"""The sites' quarantine policies against what the store says now: the library call behind
``ccops quarantine evaluate`` (and what a schedule's firing would call)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ccops.inventory.compliance import IN_SERVICE
from ccops.quarantine.apply import Change
from ccops.quarantine.evaluate import Evaluation, evaluate
from ccops.store.holds import active_by_host

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.store.records import Store

MIN_RUNS_DAYS = 30  # the runs read for "out of policy since" and failed decommissions


def evaluate_now(store: Store, inventory: Inventory, now: datetime | None = None) -> Evaluation:
    """Read the store once (compliance, recent runs, reverted findings, CVEs if a site asks) and evaluate."""
    from ccops.report.risks import load_state
    from ccops.vulns.risks import vuln_risks

    now = now or datetime.now(UTC)
    policies = [s.quarantine for s in inventory.sites.values()]
    days = max([p.get("out_of_policy_days", 0) for p in policies] + [MIN_RUNS_DAYS]) + 1
    state = load_state(store, now, runs_days=days)
    vulns = vuln_risks(inventory, store, now=now) if any(p.get("vuln_urgency") for p in policies) else []
    return evaluate(inventory, state, active_by_host(store), now, vulns)


def change_of(found: Evaluation, inventory: Inventory) -> Change:
    """The holds and lifts to apply, and the in-service hosts their comply --fix run reaches."""
    reached = [h.host for h in found.holds] + [
        name for name in found.lifts if name in inventory.hosts and inventory.hosts[name].lifecycle in IN_SERVICE
    ]
    return Change(found.holds, dict(found.lifts), reached)
