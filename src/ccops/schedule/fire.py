"""One firing of a schedule, exactly as its timer fires it: run the verb, or record why not.

A firing never waits and never queues: when another firing of the same schedule
holds its lock, the inventory is offline, the previous run of the schedule halted,
was interrupted or is still running, or a changing verb finds the site's window
closed, the firing is recorded as a run with status "refused" (exit EXIT_REFUSED)
and the reason, and ends. Every record of a firing carries the schedule and its
standing change id in its request (``schedule``: name, change id, standing: true).
A ``run: reapply`` firing that finds no host reverted runs nothing and records
nothing (status "nothing", exit 0): there was nothing to put back.
"""

from __future__ import annotations

import contextlib
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ccops.errors import EXIT_REFUSED, CcopsError, RefusedError
from ccops.inventory.load import load_inventory
from ccops.inventory.model import Inventory
from ccops.locks import LockError, held_flock
from ccops.paths import private_dir, state_dir
from ccops.plan.maintenance import window_open
from ccops.run import RunRequest, RunResult, execute, git_commit, new_run_id, open_store, operator, prepare
from ccops.run.engine import Engine
from ccops.runner.progress import Progress
from ccops.schedule.model import QUARANTINE, REAPPLY, REMEDIATE, Schedule, get_schedule
from ccops.store.records import Store
from ccops.text.safe_text import visible
from ccops.verbs import get_verb

STATUS_REFUSED = "refused"
STATUS_NOTHING = "nothing"  # a reapply (quarantine evaluate) firing with no host to re-apply (hold, lift): no run
# what the previous run of a schedule must not be left in when the next firing comes
UNFINISHED = {
    "halted": "halted",
    "interrupted": "was interrupted",
    "running": "is still running (or its process was killed)",
}
HISTORY = 200  # how many recent runs of the verb are searched for the schedule's previous run


@dataclass
class Firing:
    schedule: str
    run_id: str
    status: str
    exit_code: int
    message: str
    result: RunResult | None = None  # the run, when the firing ran one


def fire(inventory_path: Path, name: str, *, engine: Engine | None = None, progress: Progress | None = None) -> Firing:
    folder = Path(os.path.abspath(inventory_path))  # noqa: PTH100 - as named, anchored
    try:
        inventory = load_inventory(folder)
        schedule = get_schedule(inventory, name)
    except CcopsError as exc:
        _push_unreadable(folder, name, str(exc))
        raise
    fired = datetime.now(UTC)
    request = RunRequest(
        folder,
        schedule.verb,
        schedule.selector,
        change_id=schedule.change_id,
        options=dict(schedule.options),
        schedule={
            "name": schedule.name,
            "change_id": schedule.change_id,
            "standing": True,
            "run": schedule.run,
            "when": schedule.when(),
            "fired": fired.isoformat(timespec="seconds"),
        },
    )
    store = open_store()
    with schedule_lock(schedule.name) as held:
        if not held:
            busy = f"another firing of schedule {schedule.name} is still running; this one is not queued"
            return _refuse(store, inventory, request, busy)
        reason = refusal(store, inventory, schedule, fired)
        if reason or schedule.run in (QUARANTINE, REMEDIATE):  # these make their own runs, if any
            return (
                _refuse(store, inventory, request, reason)
                if reason
                else _own_runs(store, inventory, request, schedule, progress)
            )
        try:
            ran = _reapply(store, request) if schedule.run == REAPPLY else request
            prepared = None if ran is None else prepare(ran)
        except CcopsError as exc:  # a selector that names nothing today, content not approved, ...
            return _refuse(store, inventory, request, str(exc))
        if prepared is None:  # reapply: no host took back an approved patch
            nothing = f"no host took back an approved patch ({schedule.selector.describe()}); nothing to re-apply"
            return Firing(schedule.name, "", STATUS_NOTHING, 0, nothing)
        try:
            result = execute(prepared, progress, engine)
        except (RefusedError, LockError) as exc:  # raised before the run is recorded: hosts held, content
            return _refuse(store, inventory, request, str(exc))
        return Firing(schedule.name, result.run_id, result.status, result.exit_code, result.message or "", result)


def _push_unreadable(folder: Path, name: str, reason: str) -> None:
    """A firing that cannot read its inventory or find its schedule has no run to record; it is still pushed.

    The message goes to the channels whose rules take ``refused`` for every site (no site is known).
    """
    from ccops.notify.send import flush, outbox_note, queue_fleet

    line = visible(f"schedule {name[:80]}: not fired: {reason.splitlines()[0] if reason else ''}")[:500]
    try:
        queue_fleet(folder, STATUS_REFUSED, f"ccops: schedule {name[:80]} could not fire", {None: [line]})
        flush(open_store())
    except Exception:  # notify.yml unreadable too: the journal line and the problem log are what is left
        with contextlib.suppress(Exception):
            outbox_note(line)


def _reapply(store: Store, request: RunRequest) -> RunRequest | None:
    """The patch of the schedule's hosts that took back an approved patch, as a firing (None: there are none)."""
    from ccops.report.reapply import reapply_request  # the same planning as ccops reapply

    assert request.change_id is not None  # noqa: S101 - a schedule always carries its standing change
    reapplied, _ = reapply_request(store, request.inventory, request.selector, request.change_id)
    if reapplied is None:
        return None
    reapplied.schedule = request.schedule  # the record says both: fired by the schedule, and why
    return reapplied


def _own_runs(
    store: Store, inventory: Inventory, request: RunRequest, schedule: Schedule, progress: Progress | None
) -> Firing:
    """quarantine evaluate: the policy's comply --fix run; remediate: its own snapshot, patch and inspect."""
    if schedule.run == QUARANTINE:
        return _quarantine(store, inventory, request, schedule, progress)
    return _remediate(store, inventory, schedule, request)


def _quarantine(
    store: Store, inventory: Inventory, request: RunRequest, schedule: Schedule, progress: Progress | None
) -> Firing:
    """The site's quarantine policy applied now (ccops.quarantine.auto): a comply --fix run, or nothing."""
    from ccops.quarantine.auto import evaluate_and_apply, summary

    try:
        applied = evaluate_and_apply(store, inventory, schedule.change_id, progress, {schedule.site}, request.schedule)
    except (CcopsError, LockError) as exc:
        return _refuse(store, inventory, request, str(exc))
    if applied is None:
        return Firing(schedule.name, "", STATUS_NOTHING, 0, f"site {schedule.site}: no hold to set or lift")
    if applied.problem:  # the holds are recorded; their run could not start
        return _refuse(store, inventory, request, summary(applied))
    if applied.run is None:  # only hosts out of service were lifted: recorded, nothing to reach
        return Firing(schedule.name, "", STATUS_NOTHING, 0, summary(applied))
    ran = applied.run
    return Firing(schedule.name, ran.run_id, ran.status, ran.exit_code, summary(applied), ran)


def _remediate(store: Store, inventory: Inventory, schedule: Schedule, request: RunRequest) -> Firing:
    """ccops remediate --urgency LEVEL as the site allows it: unattended, approved by the site's rule only."""
    from ccops.remediate.run import remediate
    from ccops.remediate.targets import at_least

    if not inventory.sites[schedule.site].remediate.get("unattended"):
        why = f"site {schedule.site} does not allow unattended remediation (its remediate.unattended is not true)"
        return _refuse(store, inventory, request, why)
    assert request.change_id is not None  # noqa: S101 - a schedule always carries its standing change
    try:
        urgencies = at_least(schedule.options["urgency"])
        done = remediate(
            request.inventory,
            request.selector,
            (),
            urgencies,
            request.change_id,
            rule_only=True,
            schedule=request.schedule,
        )
    except (CcopsError, RefusedError, LockError) as exc:
        return _refuse(store, inventory, request, str(exc))
    if done.status == "nothing_to_fix":
        return Firing(schedule.name, "", STATUS_NOTHING, 0, f"no {schedule.options['urgency']} CVE to fix")
    if done.status == "not_approved":
        return _refuse(store, inventory, request, "the site's remediate.auto_approve rule approves none of the fixes")
    fixed = sum(1 for o in done.outcomes if o.state == "fixed")
    message = (
        f"remediation {done.status}: {fixed} of {len(done.outcomes)} finding(s) fixed; runs {', '.join(done.runs)}"
    )
    return Firing(schedule.name, done.runs[-1] if done.runs else "", done.status, done.exit_code, message)


def refusal(store: Store, inventory: Inventory, schedule: Schedule, now: datetime) -> str | None:
    """Why this firing must not run, or None."""
    if inventory.offline:
        return (
            f"{inventory.config_file}: this inventory is marked offline: true "
            "(for planning and review only); ccops runs nothing against it"
        )
    previous = previous_run(store, schedule)
    if previous is not None and previous["status"] in UNFINISHED:
        return (
            f"the previous run {previous['id']} of schedule {schedule.name} {UNFINISHED[previous['status']]}; "
            f"see ccops runs show {previous['id']}, continue it with ccops resume {previous['id']}"
        )
    site = inventory.sites[schedule.site]
    if get_verb(schedule.verb).changes_hosts and not window_open(site, now):
        local = now.astimezone(ZoneInfo(site.timezone))
        return (
            f"maintenance window closed at site {site.code} ({local:%a %H:%M} {site.timezone}); "
            f"schedule {schedule.name} runs {schedule.run} only inside it"
        )
    return None


def previous_run(store: Store, schedule: Schedule) -> dict[str, Any] | None:
    """The newest run this schedule started (refusals are not runs that can block)."""
    for record in store.runs(limit=HISTORY, verb=schedule.verb):
        fired = record.request.get("schedule") if isinstance(record.request, dict) else None
        if isinstance(fired, dict) and fired.get("name") == schedule.name and record.status != STATUS_REFUSED:
            return {"id": record.id, "status": record.status}
    return None


def schedule_lock(name: str) -> AbstractContextManager[bool]:
    """flock on CCOPS_HOME/schedules/NAME.lock, never waited for: True when this firing holds it."""
    return held_flock(private_dir(state_dir() / "schedules") / f"{name}.lock")


def _refuse(store: Store, inventory: Inventory, request: RunRequest, reason: str) -> Firing:
    """Record the firing as a refused run with its reason: an unattended refusal is never silent."""
    run_id = new_run_id()
    assert request.schedule is not None  # noqa: S101 - fire() always sets it
    store.start_run(
        run_id,
        request.verb,
        operator=operator(),
        change_id=request.change_id,
        git_commit=git_commit(),
        inventory=str(request.inventory),
        inventory_sha256=inventory.digest(),
        selectors=request.selector.as_dict(),
        request=request.as_dict(),
        plan={"waves": [], "inventory_files": {}, "schedule": request.schedule},
    )
    store.finish_run(run_id, STATUS_REFUSED, EXIT_REFUSED, reason[:500])
    from ccops.notify.send import notify_run_end  # the people on duty hear of it; never fails the firing

    notify_run_end(store, run_id)
    return Firing(str(request.schedule["name"]), run_id, STATUS_REFUSED, EXIT_REFUSED, reason)
