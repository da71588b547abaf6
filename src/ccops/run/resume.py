"""Continue a halted, interrupted or killed run from its record: the plan it approved, not a new one."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from ccops.errors import CcopsError, RefusedError, UsageError
from ccops.inventory.load import load_inventory
from ccops.inventory.model import Inventory
from ccops.locks import Locks
from ccops.plan.build import Batch, Plan, Wave, host_actions
from ccops.processes import started_epoch, stop_batch_leftovers, wait_or_stop
from ccops.run.engine import Engine, default_engine
from ccops.run.execute import RunLoop, after_run, locks_hosts, open_locks, open_store, refuse_content, warn
from ccops.run.identity import operator, run_dir
from ccops.run.prepare import PreparedRun, inventory_changes, read_approved, refuse_offline, verb_content
from ccops.run.request import RunRequest, RunResult
from ccops.runner.events import HostOutcome
from ccops.runner.progress import Progress
from ccops.text.safe_text import visible, visible_lines
from ccops.verbs import get_verb, hook

# how long a resume waits for an Ansible a killed run left behind before stopping it
LEFTOVER_TIMEOUT = float(os.environ.get("CCOPS_LEFTOVER_TIMEOUT", "1800"))


def resume_run(
    run_id: str, progress: Progress | None = None, *, keep_plan: bool = False, engine: Engine | None = None
) -> RunResult:
    """Hosts that finished are not run again. An inventory edited since the plan was approved stops
    the resume (naming what changed) unless ``keep_plan``: then the approved plan goes on as it was."""
    store, locks = open_store(), open_locks()
    record = store.run(run_id)
    if record is None:
        raise UsageError(f"no run {visible(run_id)!r}; see ccops runs list")
    if record.status == "succeeded":
        raise RefusedError(f"run {record.id} already succeeded; nothing to resume")
    if record.status == "refused":  # a refused firing (ccops.schedule) never started: its record stays as it is
        raise RefusedError(f"run {record.id} was refused before it started; nothing to resume")
    if locks.holder(record.id) is None and record.status == "running" and _still_running(record.pid, record.started):
        raise RefusedError(f"run {record.id} is still running (process {record.pid})")
    if not record.request:
        raise CcopsError(f"run {record.id} was recorded without its plan and cannot be resumed")
    request = RunRequest.from_dict(record.request)
    waves_data, approved_files = read_approved(record.plan)
    inventory = load_inventory(request.inventory)
    changes = (
        inventory_changes(inventory, approved_files)
        if approved_files
        else (["the inventory's digest differs"] if inventory.digest() != record.inventory_sha256 else [])
    )
    if changes and not keep_plan:
        raise RefusedError(
            f"the inventory at {inventory.root} changed since run {record.id} was planned "
            f"({'; '.join(changes)}). Review with ccops plan, then start a new run, or continue "
            f"the approved plan with: ccops resume {record.id} --keep-plan"
        )
    refuse_offline(inventory)
    verb = get_verb(request.verb)
    missing = sorted({n for w in waves_data for b in w["batches"] for n in b["hosts"]} - set(inventory.hosts))
    if missing:
        raise RefusedError(
            f"run {record.id} planned hosts no longer in the inventory: {', '.join(missing[:5])}; start a new run"
        )
    waves = [
        Wave(w["name"], [Batch(b["site"], [inventory.hosts[n] for n in b["hosts"]]) for b in w["batches"]])
        for w in waves_data
    ]
    done = {h["host"] for h in record.hosts if h["outcome"] == "ok"}
    todo = [h.name for w in waves for b in w.batches for h in b.hosts if h.name not in done]
    warn(locks.acquire(record.id, verb.name, operator(), todo if locks_hosts(verb) else []))
    try:
        progress = progress or Progress(enabled=False)
        _finish_leftovers(locks, record.id)
        store.reopen_run(record.id)
        if changes:
            warn(
                [
                    f"continuing the approved plan of run {record.id} although the inventory changed: "
                    + "; ".join(changes)
                ]
            )
        plan = _approved_plan(inventory, request, waves)
        request = _fresh_content(record.id, request, plan, warn)
        prepared = PreparedRun(request, plan, inventory.file_digests() if keep_plan else approved_files)
        loop = RunLoop(store, locks, record.id, prepared, progress, engine or _engine(prepared))
        done |= _collect_node_jobs(loop, waves, progress)
        if verb.after_batch:  # a host that finished just before the kill still gets its certificate
            loop.reports.update({h["host"]: h.get("report") or {} for h in record.hosts if h["host"] in done})
            loop.retire([HostOutcome(h["host"], h["outcome"]) for h in record.hosts if h["host"] in done])
        progress.say(f"resuming run {record.id}: {len(done)} host(s) already done")
        result = loop.run(waves, done)
    finally:
        locks.release(record.id)
    after_run(prepared, result, progress)  # as a run that never stopped
    return result


def _engine(prepared: PreparedRun) -> Engine:
    """A verb with an engine of its own (deploy images machines) gets it again, with what the run approved."""
    if not prepared.verb.engine:
        return default_engine(prepared.inventory)
    engine: Engine = hook(prepared.verb.engine)(prepared, say=_say)
    return engine


def _say(line: str) -> None:
    print(visible_lines(line), file=sys.stderr, flush=True)


def _collect_node_jobs(loop: RunLoop, waves: list[Wave], progress: Progress) -> set[str]:
    """Batches whose node stream was lost: what the node did is recorded; returns the hosts it finished."""
    if not (loop.folder / "node-jobs").is_dir():
        return set()
    from ccops.node.recover import collect_node_jobs

    wave_of = {h.name: w.name for w in waves for h in w.hosts}

    def record(outcomes: list[HostOutcome], reports: dict[str, dict[str, Any]]) -> None:
        rows = [{**o.as_record(), "wave": wave_of.get(o.host), "report": reports.get(o.host)} for o in outcomes]
        loop.store.record_hosts(loop.run_id, rows)

    learned = collect_node_jobs(loop.folder, loop.inventory, LEFTOVER_TIMEOUT, progress.say, loop.judge, record)
    return {o.host for o in learned if o.outcome == "ok"}


def _approved_plan(inventory: Inventory, request: RunRequest, waves: list[Wave]) -> Plan:
    verb = get_verb(request.verb)
    hosts = [h for w in waves for h in w.hosts]
    return Plan(verb, inventory, request.selector, waves, host_actions(verb, hosts, inventory), {})


def _fresh_content(run_id: str, request: RunRequest, plan: Plan, say: Callable[[list[str]], None]) -> RunRequest:
    """A verb with a content hook installs what its catalogue says now: a halted software run resumes
    with the fixed catalogue (the waves and the hosts already done stay as approved)."""
    if not plan.verb.content:
        return request
    extravars, plan.content = verb_content(plan.verb, plan.inventory, plan.hosts, request.options)
    refuse_content(plan.content)
    if any(request.options.get(k) != v for k, v in extravars.items()):
        say([f"the catalogue changed since run {run_id} was planned; the rest of the run installs what it says now"])
    return replace(request, options={**request.options, **extravars})


def _finish_leftovers(locks: Locks, run_id: str) -> None:
    """Never two Ansibles on one host: wait for (then stop) what a killed attempt of this run left running."""
    for left in locks.leftover_ansible(run_id):
        hosts = f" on {', '.join(left.hosts)}" if left.hosts else ""
        warn(
            [
                f"waiting for Ansible pid {left.process.pid} left by the killed run{hosts} "
                f"(batch {left.ident}; at most {LEFTOVER_TIMEOUT:g}s, then it is stopped)"
            ]
        )
        how = wait_or_stop(left.process, LEFTOVER_TIMEOUT, lambda line: warn([line]))
        # its workers run in sessions of their own: stopping the playbook's group does not reach them
        stop_batch_leftovers(run_dir(run_id) / f"limit-{left.ident}")
        warn([f"Ansible pid {left.process.pid} {how}; its hosts start over"])
    locks.forget_ansible(run_id)


def _still_running(pid: int | None, started: str) -> bool:
    """A record kept only a pid (no lock): the run is alive only if that pid is a process started
    before the run was recorded; a younger process got the number after the run died."""
    if not pid:
        return False
    since = started_epoch(pid)
    return since is not None and since <= datetime.fromisoformat(started).timestamp() + 1
