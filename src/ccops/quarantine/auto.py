"""The sites' quarantine policies applied without a person: after a check, and by a schedule.

``after_run`` is the verb hook (ccops.verbs ``after_run``) of the runs that learn what the
policies read: an inspection (reverted patches) and a ``comply`` check or fix (in or out of policy). When
their run ended, the policies are evaluated against the store and what they hold or lift is
applied as one recorded ``comply --fix`` run with its reasons (ccops.quarantine.apply), under
the checking run's change id or, without one, a change id naming it. A site without a
``quarantine:`` policy is never read for it: nothing happens. The hook never fails the run
that called it: what stops it is said on the run's progress and left for the next check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ccops.errors import CcopsError
from ccops.locks import LockError
from ccops.quarantine.apply import applying

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.quarantine.apply import Change
    from ccops.quarantine.evaluate import Evaluation
    from ccops.run import PreparedRun, RunResult
    from ccops.runner.progress import Progress
    from ccops.store.holds import Hold
    from ccops.store.records import Store

AUTO_CHANGE_PREFIX = "quarantine-after-"  # + the checking run's id, when it carried no change id


@dataclass
class Applied:
    """What one automatic evaluation did: the holds it set, the hosts it lifted, its comply --fix run."""

    holds: list[Hold]
    lifts: list[str]
    run: RunResult | None
    problem: str = ""  # why the change could not be run (recorded holds still stand)


def has_policy(inventory: Inventory) -> bool:
    return any(site.quarantine for site in inventory.sites.values())


def evaluate_and_apply(
    store: Store,
    inventory: Inventory,
    change_id: str,
    progress: Progress | None = None,
    sites: set[str] | None = None,
    schedule: dict[str, Any] | None = None,
) -> Applied | None:
    """Evaluate the sites' policies now and apply what they hold and lift (None: nothing to change).

    ``sites``: only holds and lifts of those sites' hosts (a schedule's site); ``schedule``: the firing
    the comply --fix run's record names (ccops.schedule.fire)."""
    from ccops.quarantine.apply import apply
    from ccops.quarantine.current import change_of, evaluate_now

    found = evaluate_now(store, inventory)
    if sites is not None:
        found = only_sites(found, inventory, sites)
    if not found.holds and not found.lifts:
        return None
    change = change_of(found, inventory)
    try:
        prepared = _prepare(inventory, change, change_id, schedule)
    except (CcopsError, LockError) as exc:  # offline inventory, no host to reach, ...: the holds are still recorded
        from ccops.quarantine.apply import record

        return Applied(record(store, change, change_id), list(change.lifts), None, str(exc))
    stored, result = apply(store, prepared, change, change_id, progress)
    return Applied(stored, list(change.lifts), result)


def after_run(prepared: PreparedRun, result: RunResult, progress: Progress | None = None) -> Applied | None:
    """The verb hook: after a finished check or fix, hold and lift as the sites' policies say now."""
    inventory = prepared.inventory
    if applying() or not has_policy(inventory) or result.status in ("error", "interrupted"):
        return None
    from ccops.run import open_store

    change_id = prepared.request.change_id or f"{AUTO_CHANGE_PREFIX}{result.run_id}"
    try:
        applied = evaluate_and_apply(open_store(), inventory, change_id, progress)
    except (CcopsError, LockError) as exc:
        _say(progress, f"quarantine: not evaluated after run {result.run_id}: {exc}")
        return None
    if applied is not None:
        _say(progress, summary(applied))
    return applied


def summary(applied: Applied) -> str:
    parts = [f"held {', '.join(h.host for h in applied.holds)}"] if applied.holds else []
    parts += [f"lifted {', '.join(applied.lifts)}"] if applied.lifts else []
    ran = f" (comply --fix run {applied.run.run_id}: {applied.run.status})" if applied.run else ""
    why = f"; the run did not start: {applied.problem}" if applied.problem else ""
    return f"quarantine: {'; '.join(parts)}{ran}{why}"


def only_sites(found: Evaluation, inventory: Inventory, sites: set[str]) -> Evaluation:
    """The holds and lifts of hosts of those sites (a lift of a host gone from the inventory: any site's)."""
    from ccops.quarantine.evaluate import Evaluation

    def mine(name: str) -> bool:
        host = inventory.hosts.get(name)
        return host is None or host.site in sites

    return Evaluation(
        [h for h in found.holds if mine(h.host)],
        {n: why for n, why in found.lifts.items() if mine(n)},
        {n: why for n, why in found.refused.items() if mine(n)},
    )


def _prepare(
    inventory: Inventory, change: Change, change_id: str, schedule: dict[str, Any] | None
) -> PreparedRun | None:
    from ccops.quarantine.apply import request
    from ccops.run import prepare

    if not change.run_hosts:
        return None
    ran = request(inventory.root, change, change_id)
    ran.schedule = schedule
    return prepare(ran)


def _say(progress: Progress | None, line: str) -> None:
    from ccops.text.safe_text import visible

    if progress is not None:
        progress.say(visible(line))
