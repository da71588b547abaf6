"""Execute a prepared plan: batch by batch, gates between them, every outcome recorded.

for each wave, each batch: stop if the inventory changed since the plan was approved,
refuse hosts outside their site's maintenance window, run the batch through the
engine, record every host's outcome, check the wave gates. A halted, interrupted or
killed run resumes from its record (resume.py).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccops import hooks
from ccops.errors import (
    EXIT_HALTED,
    EXIT_HOSTS_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NOTHING_DONE,
    EXIT_OK,
    RefusedError,
)
from ccops.hostdata.asset import fill_unchanged, known_packages
from ccops.inventory.export import SNAPSHOT_SUFFIX
from ccops.inventory.model import SECRET_KEYS, Host, Inventory
from ccops.locks import Locks
from ccops.paths import state_dir
from ccops.plan.build import Batch, Wave
from ccops.plan.gates import gate_reason
from ccops.plan.maintenance import describe, window_open
from ccops.run.engine import Engine, default_engine
from ccops.run.events_stream import EventStream, active_events
from ccops.run.identity import attempt_ident, git_commit, new_run_id, operator, rotate_run_dirs, run_dir
from ccops.run.prepare import (
    PreparedRun,
    inventory_changes,
    read_snapshot,
    refuse_offline,
    write_batch_snapshot,
    write_snapshot,
)
from ccops.run.preselect import select_pass
from ccops.run.request import RunRequest, RunResult
from ccops.runner.engine import Batch as EngineBatch
from ccops.runner.engine import Execution
from ccops.runner.events import FAILING, OUTCOME_UNKNOWN, EventCollector, HostOutcome
from ccops.runner.hostkeys import name_known_hosts
from ccops.runner.progress import Progress
from ccops.store.records import Store
from ccops.text.safe_text import visible, visible_lines
from ccops.verbs import SELECT_WAVE, Verb, hook

KEEP_RUN_DIRS = int(os.environ.get("CCOPS_KEEP_RUNS", "50"))
OUTCOME_REFUSED = "refused"  # a pre-check left the host alone (busy seat, closed window): not a failure
STATUS_NOTHING_DONE = "nothing_done"  # every host was refused: the run went through and changed nothing
WINDOW_CLOSED = "maintenance window closed"  # the refusal reason ccops itself gives, counted by site


def open_store() -> Store:
    return Store(state_dir() / "ccops.db")


def open_locks() -> Locks:
    return Locks(state_dir())


def locks_hosts(verb: Verb) -> bool:
    """Verbs that change hosts hold them: one such run per host at a time (rollback restores a host)."""
    return verb.locks_hosts


def execute(prepared: PreparedRun, progress: Progress | None = None, engine: Engine | None = None) -> RunResult:
    """Run exactly the prepared plan, and record it (the record keeps that plan, not a new one)."""
    refuse_offline(prepared.inventory)
    refuse_content(prepared.plan.content)
    store, locks = open_store(), open_locks()
    run_id = new_run_id()
    hosts = [h.name for h in prepared.plan.hosts] if locks_hosts(prepared.verb) else []
    warn(locks.acquire(run_id, prepared.verb.name, operator(), hosts))
    try:
        store.start_run(
            run_id,
            prepared.verb.name,
            operator=operator(),
            change_id=prepared.request.change_id,
            git_commit=git_commit(),
            inventory=str(prepared.request.inventory),
            inventory_sha256=prepared.inventory.digest(),
            selectors=prepared.request.selector.as_dict(),
            request=prepared.request.as_dict(),
            plan={**prepared.plan_document(), "inventory_files": prepared.inventory_files},
        )
        engine = engine or default_engine(prepared.inventory)
        loop = RunLoop(store, locks, run_id, prepared, progress or Progress(enabled=False), engine)
        result = loop.run(prepared.plan.waves, set())
    finally:
        locks.release(run_id)
    after_run(prepared, result, progress)
    return result


def after_run(prepared: PreparedRun, result: RunResult, progress: Progress | None) -> None:
    """The verb's after_run hook, once a run (or its resume) released its hosts' locks: it may run on them."""
    if prepared.verb.after_run:
        hook(prepared.verb.after_run)(prepared, result, progress)


def approve_own_edit(store: Store, run_id: str, prepared: PreparedRun, before: dict[str, str]) -> list[str]:
    """The run's own edit of its inventory (decommission: retired; deploy: active) becomes part of what
    it approved, in memory and in its record, so its next batch and a resume go on. ``before``: the
    file digests just before the edit. A file someone else changed first stays unapproved (it halts)."""
    approved = prepared.inventory_files
    adopted = {
        name: digest
        for name, digest in prepared.inventory.file_digests().items()
        if before.get(name) != digest and approved.get(name) == before.get(name)
    }
    if adopted:
        approved.update(adopted)
        store.approve_inventory(run_id, approved)
    return sorted(adopted)


def refuse_content(content: dict[str, Any]) -> None:
    """A verb's content hook can name why its run must not start (software: artefacts not staged)."""
    if content.get("refusals"):
        raise RefusedError("; ".join(content["refusals"]))


def run_verb(request: RunRequest, progress: Progress | None = None, engine: Engine | None = None) -> RunResult:
    """prepare, then execute: for callers that need no look at the plan in between."""
    from ccops.run.prepare import prepare

    return execute(prepare(request), progress, engine)


def warn(lines: list[str]) -> None:
    # stderr whatever the output format: a takeover or a wait must never go unexplained
    for line in lines:
        print(f"ccops: {visible_lines(line)}", file=sys.stderr, flush=True)


class _Interrupt:
    """Ctrl-C or SIGTERM stops Ansible cleanly and marks the run interrupted."""

    def __init__(self) -> None:
        self.flag = False
        self._saved: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.flag = True

    def __enter__(self) -> _Interrupt:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)


@dataclass
class _WaveState:
    outcomes: list[HostOutcome] = field(default_factory=list)
    halt: str | None = None
    error: BaseException | None = None


@dataclass
class RunLoop:
    """One run (or one resumption of it) in progress."""

    store: Store
    locks: Locks
    run_id: str
    prepared: PreparedRun
    progress: Progress
    engine: Engine
    interrupted: _Interrupt = field(default_factory=_Interrupt)
    outcomes: list[HostOutcome] = field(default_factory=list)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    snapshot: Path | None = None
    approved: dict[str, Any] = field(default_factory=dict)  # the snapshot's content, each batch's part cut from it
    lock: threading.RLock = field(default_factory=threading.RLock)  # lanes share records and gates
    events: EventStream = field(default_factory=active_events)  # --events FILE, else nowhere

    @property
    def verb(self) -> Verb:
        return self.prepared.verb

    @property
    def inventory(self) -> Inventory:
        return self.prepared.inventory

    @property
    def request(self) -> RunRequest:
        return self.prepared.request

    @property
    def folder(self) -> Path:
        return run_dir(self.run_id)

    def run(self, waves: list[Wave], done: set[str]) -> RunResult:
        started_at = datetime.now(UTC)
        started = started_at.isoformat(timespec="seconds")
        total = sum(len(b.hosts) for w in waves for b in w.batches)
        self.progress.say(f"run {self.run_id}: {self.verb.name} on {total - len(done)} host(s) in {len(waves)} wave(s)")
        # a resumed run keeps reading the snapshot its plan was approved with
        existing = self.folder / f"inventory{SNAPSHOT_SUFFIX}"
        resumed = existing.is_file()
        self.snapshot = existing if resumed else write_snapshot(self.folder, self.prepared)
        self.approved = read_snapshot(self.snapshot)
        summaries: list[dict[str, Any]] = []
        halt: str | None = None
        try:
            self.events.open()
            self.events.emit(
                "run_started",
                self.run_id,
                verb=self.verb.name,
                change_id=self.request.change_id,
                hosts=total - len(done),
                waves=[w.name for w in waves],
                resumed=resumed,
            )
            with self.interrupted:
                # the verb's select pass: hosts it finds with nothing to do are done before any wave
                if self.verb.preselect is not None:
                    selected = select_pass(self, waves, done)
                    done = done | {o.host for o in selected}
                    summaries += [_wave_summary(SELECT_WAVE, selected, started_at, _site_of(waves))] if selected else []
                self.progress.expect(self.store, self.verb.name, waves, done, self.inventory, self.request.forks)
                for wave_no, wave in enumerate(waves, 1):
                    summary, halt = self._wave(wave_no, wave, done)
                    summaries.append(summary)
                    if self.interrupted.flag or halt:
                        break
            status, code, message = self._verdict(halt)
        except BaseException as exc:
            self.store.finish_run(self.run_id, "error", getattr(exc, "exit_code", 1), str(exc)[:500])
            self._run_ended("error", getattr(exc, "exit_code", 1), str(exc)[:500])
            raise
        finally:  # a batch that ended without Ansible's recap (engine error, lost stream, Ctrl-C) leaves no status line
            self.progress.close()
        self.store.finish_run(self.run_id, status, code, message)
        self._run_ended(status, code, message)
        hooks.run_ended(self.store, self.run_id)  # what the caller installed (the CLI: notify's message)
        rotate_run_dirs(state_dir() / "runs", KEEP_RUN_DIRS)
        refused = refusal_line(self.outcomes)
        if refused:
            self.progress.say(refused)
        if halt:
            self.progress.say(f"HALTED: {halt}")
        return RunResult(
            self.run_id,
            self.verb.name,
            status,
            code,
            self.outcomes,
            self.reports,
            started,
            datetime.now(UTC).isoformat(timespec="seconds"),
            message,
            summaries,
        )

    def _run_ended(self, status: str, code: int, message: str) -> None:
        refused = Counter(refusal_reason(o) for o in self.outcomes if o.outcome == OUTCOME_REFUSED)
        self.events.emit(
            "run_ended",
            self.run_id,
            status=status,
            exit_code=code,
            message=message,
            outcomes=_count(self.outcomes),
            refused=dict(refused),
        )

    def _wave(self, wave_no: int, wave: Wave, done: set[str]) -> tuple[dict[str, Any], str | None]:
        started = datetime.now(UTC)
        state = _WaveState()
        lanes = self._lanes(wave)
        if len(lanes) == 1:
            self._lane(wave_no, wave, lanes[0], done, state, self.progress)
        else:
            # sites with a node run side by side, each through its node; gates stay here, between batches
            threads = [
                threading.Thread(
                    target=self._lane,
                    args=(wave_no, wave, lane, done, state, self.progress.lane(lane[0][1].site)),
                    daemon=True,
                )
                for lane in lanes
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)  # short waits: Ctrl-C is handled in this thread
            if state.error is not None:
                raise state.error
        site_of = {h.name: b.site for b in wave.batches for h in b.hosts}
        return _wave_summary(wave.name, state.outcomes, started, site_of), state.halt

    def _lanes(self, wave: Wave) -> list[list[tuple[int, Batch]]]:
        """One lane per site with a node, one for the sites this jump host runs (in plan order)."""
        side_by_side = getattr(self.engine, "side_by_side", lambda site: False)
        lanes: dict[str, list[tuple[int, Batch]]] = {}
        for batch_no, batch in enumerate(wave.batches, 1):
            lanes.setdefault(batch.site if side_by_side(batch.site) else "", []).append((batch_no, batch))
        return list(lanes.values()) or [[]]

    def _lane(
        self,
        wave_no: int,
        wave: Wave,
        lane: list[tuple[int, Batch]],
        done: set[str],
        state: _WaveState,
        progress: Progress,
    ) -> None:
        try:
            for batch_no, batch in lane:
                todo = [h for h in batch.hosts if h.name not in done]
                with self.lock:
                    if self.interrupted.flag or state.halt or not todo:
                        continue
                    state.halt = self._inventory_changed(wave.name, batch_no)
                    if state.halt:
                        continue
                    progress.batch(wave.name, batch_no, len(wave.batches), batch.site, len(todo))
                    self.events.emit(
                        "batch_started",
                        self.run_id,
                        wave=wave.name,
                        batch=batch_no,
                        batches=len(wave.batches),
                        site=batch.site,
                        hosts=[h.name for h in todo],
                    )
                    ident = attempt_ident(self.folder, f"w{wave_no}-b{batch_no}")
                batch_outcomes = self._batch(todo, ident, wave.name, progress)
                self.events.host_results(self.run_id, wave.name, batch_no, batch.site, batch_outcomes)
                with self.lock:
                    state.outcomes += batch_outcomes
                    self.outcomes += batch_outcomes
                    lost = next((o for o in batch_outcomes if o.outcome == OUTCOME_UNKNOWN), None)
                    if lost is not None:
                        state.halt = state.halt or f"site {batch.site}, batch {batch_no}: {lost.message}"
                    elif self.verb.changes_hosts:
                        state.halt = state.halt or gate_reason(self.inventory, wave, state.outcomes, self.outcomes)
        except BaseException as exc:  # handed to the wave's thread, which raises it
            with self.lock:
                state.error = state.error or exc
                state.halt = state.halt or str(exc)
            if threading.current_thread() is threading.main_thread():
                raise

    def _inventory_changed(self, wave: str, batch_no: int) -> str | None:
        """A changing run stops before a batch if the inventory was edited after its plan was approved."""
        if not self.verb.changes_hosts or not self.prepared.inventory_files:
            return None
        changes = inventory_changes(self.inventory, self.prepared.inventory_files)
        if not changes:
            return None
        return (
            f"the inventory changed since this run was planned ({'; '.join(changes)}); stopped before "
            f"{wave} batch {batch_no}. Review with ccops plan, then either start a new run, or continue "
            f"the approved plan with: ccops resume {self.run_id} --keep-plan"
        )

    def _batch(self, hosts: list[Host], ident: str, wave: str, progress: Progress) -> list[HostOutcome]:
        outcomes = []
        if self.verb.changes_hosts and not self.request.emergency:
            closed = {
                h.site: describe(self.inventory.sites[h.site])
                for h in hosts
                if not window_open(self.inventory.sites[h.site])
            }
            outcomes = [HostOutcome(h.name, OUTCOME_REFUSED, message=closed[h.site]) for h in hosts if h.site in closed]
            hosts = [h for h in hosts if h.site not in closed]
            for site in sorted(closed):  # said as it happens, not only in the end-of-run count
                count = sum(1 for h in outcomes if h.message == closed[site])
                progress.say(f"   REFUSED     {count} host(s): {closed[site]}")
        if hosts:
            outcomes += self.run_hosts(hosts, ident, progress)
        with self.lock:
            self.store.record_hosts(
                self.run_id, [{**o.as_record(), "wave": wave, "report": self.reports.get(o.host)} for o in outcomes]
            )
            if self.verb.after_batch:
                self.retire(outcomes)
        return outcomes

    def retire(self, outcomes: list[HostOutcome]) -> None:
        """The verb's after-batch step (decommission: certificate, then retired in the site file). The run's
        own edit of the inventory becomes part of what it approved, so its next batch (or a resume) goes on."""
        before = self.inventory.file_digests()
        problems, _ = hook(self.verb.after_batch)(self.store, self.inventory, self.run_id, outcomes, self.reports)
        warn(problems)
        approve_own_edit(self.store, self.run_id, self.prepared, before)

    def run_hosts(
        self, hosts: list[Host], ident: str, progress: Progress, action: str | None = None
    ) -> list[HostOutcome]:
        """One ansible-playbook of the verb's playbook on these hosts; ``action``: another of its actions
        than the verb's own (the select pass, ccops.run.preselect)."""
        assert self.snapshot is not None  # noqa: S101 (written when the loop starts)
        collector = EventCollector(on_event=progress, verb=self.verb.name)
        names = [h.name for h in hosts]
        extravars = {
            **_extravars(self.verb, self.run_id, self.request),
            **self._known_packages(names),
            **self._batch_vars(names),
        }
        if action:
            extravars["ccops_action"] = action
        batch = EngineBatch(
            ident,
            f"playbooks/{self.verb.playbook}",
            write_batch_snapshot(self.folder, self.approved, ident, names),  # only this batch's hosts
            names,
            extravars,
            self.request.forks,
        )
        try:
            self.engine.run(
                batch,
                Execution(
                    self.folder,
                    collector,
                    lambda: self.interrupted.flag,
                    secret_env_names(self.inventory),
                    lambda pid: self.locks.record_ansible(self.run_id, ident, pid, names),
                ),
            )
        finally:
            self.locks.forget_ansible(self.run_id, ident)
        return self.judge(collector, names)

    def judge(self, collector: EventCollector, names: list[str]) -> list[HostOutcome]:
        """Per-host outcomes from a batch's events (streamed, or collected from a node afterwards)."""
        if self.verb.inspects:  # "unchanged" package sets: the stored one, or the host's data is damaged
            fill_unchanged(collector.reports, collector.damaged, self._stored_asset)
        outcomes = [_judge(o, collector.reports.get(o.host)) for o in collector.outcomes(names)]
        name_known_hosts(self.inventory, outcomes)
        with self.lock:
            self.reports.update({h: r for h, r in collector.reports.items() if h in names})
            # deploy's converge ends with the asset role: a deployed machine's first record names its image
            assets = {
                h: r
                for h, r in collector.reports.items()
                if h in names and r.get("outcome") in ("inspected", "deployed")
            }
            if self.verb.records_assets and assets:
                self.store.save_assets(self.run_id, assets)
        return outcomes

    def _stored_asset(self, host: str) -> dict[str, Any] | None:
        asset = self.store.asset(host)
        return asset["record"] if asset else None

    def _batch_vars(self, names: list[str]) -> dict[str, Any]:
        """What the verb reads from the records for this batch's hosts when it starts (Verb.batch_vars)."""
        if not self.verb.batch_vars:
            return {}
        from ccops.run.ansible_log import reports

        return dict(hook(self.verb.batch_vars)(self.store, reports(self.folder, self.verb.name), names))

    def _known_packages(self, names: list[str]) -> dict[str, Any]:
        """An inspection tells each host the digest of its stored package set: unchanged, it is not sent again."""
        if not self.verb.inspects:
            return {}
        return {"asset_known_packages": known_packages(names, self._stored_asset)}

    def _verdict(self, halt: str | None) -> tuple[str, int, str]:
        if self.interrupted.flag:
            return "interrupted", EXIT_INTERRUPTED, f"interrupted; continue with: ccops resume {self.run_id}"
        if halt:
            return "halted", EXIT_HALTED, f"halted before the next batch: {halt}"
        if any(o.outcome in FAILING for o in self.outcomes):
            return "failed", EXIT_HOSTS_FAILED, _summary(self.outcomes)
        if self.outcomes and all(o.outcome == OUTCOME_REFUSED for o in self.outcomes):
            return STATUS_NOTHING_DONE, EXIT_NOTHING_DONE, f"nothing done: {refusal_line(self.outcomes)}"
        return "succeeded", EXIT_OK, _summary(self.outcomes)


def _judge(outcome: HostOutcome, report: dict[str, Any] | None) -> HostOutcome:
    """Refine Ansible's per-host verdict with what the host itself reported."""
    if report and outcome.outcome == "ok":
        if report.get("outcome") == OUTCOME_REFUSED:
            outcome.outcome, outcome.message = OUTCOME_REFUSED, report.get("reason")
        elif report.get("outcome") == "up_to_date":
            outcome.message = "up to date"
    return outcome


def refusal_reason(outcome: HostOutcome) -> str:
    """What a refusal is counted under: ccops's own window refusal by site, a host's reason as it said it."""
    message = outcome.message or "no reason given"
    if message.startswith(f"{WINDOW_CLOSED} at site "):
        return message.split(" (", 1)[0]  # the site's local time and windows stay in the host's record
    return visible(message)[:80]  # host text: one short line, controls shown, never obeyed


def refusal_line(outcomes: list[HostOutcome]) -> str:
    """'12 refused: maintenance window closed at site par (12)', or '' when no host was refused."""
    reasons = Counter(refusal_reason(o) for o in outcomes if o.outcome == OUTCOME_REFUSED)
    if not reasons:
        return ""
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))  # most first, then by name
    counted = "; ".join(f"{reason} ({n})" for reason, n in ordered)
    return f"{sum(reasons.values())} refused: {counted}"


def _count(outcomes: list[HostOutcome]) -> dict[str, int]:
    return dict(Counter(o.outcome for o in outcomes))


def _wave_summary(name: str, outcomes: list[HostOutcome], started: datetime, site_of: dict[str, str]) -> dict[str, Any]:
    sites = {
        site: _count([o for o in outcomes if site_of[o.host] == site])
        for site in dict.fromkeys(site_of[o.host] for o in outcomes)
    }
    return {
        "wave": name,
        "hosts": len(outcomes),
        "outcomes": _count(outcomes),
        "sites": sites,
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
    }


def _site_of(waves: list[Wave]) -> dict[str, str]:
    return {h.name: b.site for w in waves for b in w.batches for h in b.hosts}


def _extravars(verb: Verb, run_id: str, request: RunRequest) -> dict[str, Any]:
    # never secrets: these land on the ansible-playbook command line and in artifacts
    values = {"ccops_run_id": run_id, "ccops_action": verb.action, "ccops_change_id": request.change_id or ""}
    return {**values, **request.options}


def _summary(outcomes: list[HostOutcome]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(_count(outcomes).items()))


def secret_env_names(inventory: Inventory) -> set[str]:
    names: set[str] = set()
    for site in inventory.sites.values():
        for profile in site.connections.values():
            for key in SECRET_KEYS:
                ref = profile.get(key)
                if ref and "env" in ref:
                    names.add(ref["env"])
    return names
