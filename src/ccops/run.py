"""Run a lifecycle verb: the library call behind every verb command.

load inventory -> select hosts -> plan waves -> for each batch: refuse hosts
outside their site's maintenance window, run the batch through the runner,
record every host's outcome, check the wave gates -> finish the record. A
halted, interrupted or killed run resumes from its record.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import signal
import subprocess
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccops.errors import EXIT_HALTED, EXIT_HOSTS_FAILED, EXIT_INTERRUPTED, EXIT_OK, CcopsError
from ccops.gates import gate_reason
from ccops.hostkeys import name_known_hosts
from ccops.inventory.load import load_inventory
from ccops.inventory.model import Host, Inventory
from ccops.maintenance import describe, window_open
from ccops.paths import project_root, state_dir
from ccops.plan import Batch, Plan, Wave, build_plan, waves_record
from ccops.records import Store
from ccops.runner.engine import Batch as EngineBatch
from ccops.runner.engine import run_batch
from ccops.runner.events import FAILING, EventCollector, HostOutcome
from ccops.runner.progress import Progress
from ccops.select import Selector, select
from ccops.verbs import Verb, get_verb

KEEP_RUN_DIRS = int(os.environ.get("CCOPS_KEEP_RUNS", "50"))
OUTCOME_REFUSED = "refused"  # a pre-check left the host alone (busy seat, closed window): not a failure


@dataclass
class RunRequest:
    inventory: Path
    verb: str
    selector: Selector = field(default_factory=Selector)
    change_id: str | None = None
    batch_size: int | None = None
    forks: int = 25
    emergency: bool = False  # run outside maintenance windows
    options: dict[str, Any] = field(default_factory=dict)  # verb settings passed to the playbook

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["inventory"] = str(self.inventory)
        data["selector"] = self.selector.as_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRequest:
        selector = Selector(**{k: tuple(v) for k, v in data["selector"].items()})
        return cls(**{**data, "inventory": Path(data["inventory"]), "selector": selector})


@dataclass
class RunResult:
    run_id: str
    verb: str
    status: str  # succeeded, failed, halted, interrupted
    exit_code: int
    hosts: list[HostOutcome]
    reports: dict[str, dict]
    started: str
    ended: str
    message: str | None = None
    waves: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "verb": self.verb, "status": self.status, "exit_code": self.exit_code,
                "message": self.message, "started": self.started, "ended": self.ended, "waves": self.waves,
                "hosts": [h.as_record() for h in self.hosts]}


def open_store() -> Store:
    return Store(state_dir() / "ccops.db")


def prepare(request: RunRequest) -> Plan:
    inventory = load_inventory(request.inventory)
    verb = get_verb(request.verb)
    selection = select(inventory, request.selector, verb.lifecycle)
    return build_plan(inventory, verb, request.selector, selection, request.batch_size)


def run_verb(request: RunRequest, progress: Progress | None = None) -> RunResult:
    plan = prepare(request)
    _refuse_offline(plan.inventory)
    store = open_store()
    run_id = new_run_id()
    store.start_run(run_id, plan.verb.name, operator=operator(), change_id=request.change_id,
                    git_commit=git_commit(), inventory=str(plan.inventory.root),
                    inventory_sha256=plan.inventory.digest(), selectors=request.selector.as_dict(),
                    request=request.as_dict(), plan=waves_record(plan.waves))
    execution = _Execution(store, run_id, request, plan.verb, plan.inventory, progress or Progress(enabled=False))
    return execution.run(plan.waves, set())


def resume_run(run_id: str, progress: Progress | None = None) -> RunResult:
    """Continue a halted, interrupted or killed run; hosts that finished are not run again."""
    store = open_store()
    record = store.run(run_id)
    if record is None:
        raise CcopsError(f"no run {run_id!r}; see ccops runs list")
    if record.status == "succeeded":
        raise CcopsError(f"run {record.id} already succeeded; nothing to resume")
    if record.status == "running" and record.pid and _alive(record.pid):
        raise CcopsError(f"run {record.id} is still running (process {record.pid})")
    if not record.request:
        raise CcopsError(f"run {record.id} was recorded without its plan and cannot be resumed")
    request = RunRequest.from_dict(record.request)
    inventory = load_inventory(request.inventory)
    if inventory.digest() != record.inventory_sha256:
        raise CcopsError(f"the inventory changed since run {record.id} started; review it with ccops plan "
                         "and start a new run")
    _refuse_offline(inventory)
    done = {h["host"] for h in record.hosts if h["outcome"] == "ok"}
    waves = [Wave(w["name"], [Batch(b["site"], [inventory.hosts[n] for n in b["hosts"]]) for b in w["batches"]])
             for w in record.plan]
    store.reopen_run(record.id)
    progress = progress or Progress(enabled=False)
    progress.say(f"resuming run {record.id}: {len(done)} host(s) already done")
    return _Execution(store, record.id, request, get_verb(request.verb), inventory, progress).run(waves, done)


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
class _Execution:
    """One run (or one resumption of it) in progress."""

    store: Store
    run_id: str
    request: RunRequest
    verb: Verb
    inventory: Inventory
    progress: Progress
    interrupted: _Interrupt = field(default_factory=_Interrupt)
    outcomes: list[HostOutcome] = field(default_factory=list)
    reports: dict[str, dict] = field(default_factory=dict)

    def run(self, waves: list[Wave], done: set[str]) -> RunResult:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        total = sum(len(b.hosts) for w in waves for b in w.batches)
        self.progress.say(f"run {self.run_id}: {self.verb.name} on {total - len(done)} host(s) "
                          f"in {len(waves)} wave(s)")
        summaries: list[dict] = []
        halt: str | None = None
        try:
            with self.interrupted:
                for wave_no, wave in enumerate(waves, 1):
                    summary, halt = self._wave(wave_no, wave, done)
                    summaries.append(summary)
                    if self.interrupted.flag or halt:
                        break
            status, code, message = self._verdict(halt)
        except BaseException as exc:
            self.store.finish_run(self.run_id, "error", getattr(exc, "exit_code", 1), str(exc)[:500])
            raise
        self.store.finish_run(self.run_id, status, code, message)
        rotate_run_dirs(state_dir() / "runs", KEEP_RUN_DIRS)
        if halt:
            self.progress.say(f"HALTED: {halt}")
        return RunResult(self.run_id, self.verb.name, status, code, self.outcomes, self.reports, started,
                         datetime.now(UTC).isoformat(timespec="seconds"), message, summaries)

    def _wave(self, wave_no: int, wave: Wave, done: set[str]) -> tuple[dict, str | None]:
        started = datetime.now(UTC)
        outcomes: list[HostOutcome] = []
        halt = None
        for batch_no, batch in enumerate(wave.batches, 1):
            todo = [h for h in batch.hosts if h.name not in done]
            if self.interrupted.flag or halt or not todo:
                continue
            self.progress.batch(wave.name, batch_no, len(wave.batches), batch.site, len(todo))
            batch_outcomes = self._batch(todo, f"w{wave_no}-b{batch_no}", wave.name)
            outcomes += batch_outcomes
            self.outcomes += batch_outcomes
            if self.verb.changes_hosts:
                halt = gate_reason(self.inventory, wave, outcomes, self.outcomes)
        site_of = {h.name: b.site for b in wave.batches for h in b.hosts}
        return _wave_summary(wave.name, outcomes, started, site_of), halt

    def _batch(self, hosts: list[Host], ident: str, wave: str) -> list[HostOutcome]:
        outcomes = []
        if self.verb.changes_hosts and not self.request.emergency:
            closed = {h.site for h in hosts if not window_open(self.inventory.sites[h.site])}
            outcomes = [HostOutcome(h.name, OUTCOME_REFUSED, message=describe(self.inventory.sites[h.site]))
                        for h in hosts if h.site in closed]
            hosts = [h for h in hosts if h.site not in closed]
        if hosts:
            collector = EventCollector(on_event=self.progress)
            names = [h.name for h in hosts]
            run_batch(state_dir() / "runs" / self.run_id,
                      EngineBatch(ident, f"playbooks/{self.verb.playbook}", self.inventory.config_file, names,
                                  _extravars(self.verb, self.run_id, self.request), self.request.forks),
                      collector, lambda: self.interrupted.flag, secret_env_names(self.inventory))
            outcomes += [_judge(o, collector.reports.get(o.host)) for o in collector.outcomes(names)]
            name_known_hosts(self.inventory, outcomes)
            self.reports.update({h: r for h, r in collector.reports.items() if h in names})
            if self.verb.name == "inspect" and collector.reports:
                self.store.save_assets(self.run_id, collector.reports)
        self.store.record_hosts(self.run_id, [{**o.as_record(), "wave": wave, "report": self.reports.get(o.host)}
                                              for o in outcomes])
        return outcomes

    def _verdict(self, halt: str | None) -> tuple[str, int, str]:
        if self.interrupted.flag:
            return "interrupted", EXIT_INTERRUPTED, f"interrupted; continue with: ccops resume {self.run_id}"
        if halt:
            return "halted", EXIT_HALTED, f"halted before the next batch: {halt}"
        if any(o.outcome in FAILING for o in self.outcomes):
            return "failed", EXIT_HOSTS_FAILED, _summary(self.outcomes)
        return "succeeded", EXIT_OK, _summary(self.outcomes)


def _judge(outcome: HostOutcome, report: dict | None) -> HostOutcome:
    """Refine Ansible's per-host verdict with what the host itself reported."""
    if report and outcome.outcome == "ok":
        if report.get("outcome") == OUTCOME_REFUSED:
            outcome.outcome, outcome.message = OUTCOME_REFUSED, report.get("reason")
        elif report.get("outcome") == "up_to_date":
            outcome.message = "up to date"
    return outcome


def _count(outcomes: list[HostOutcome]) -> dict[str, int]:
    return dict(Counter(o.outcome for o in outcomes))


def _wave_summary(name: str, outcomes: list[HostOutcome], started: datetime, site_of: dict[str, str]) -> dict:
    sites = {site: _count([o for o in outcomes if site_of[o.host] == site])
             for site in dict.fromkeys(site_of[o.host] for o in outcomes)}
    return {"wave": name, "hosts": len(outcomes), "outcomes": _count(outcomes), "sites": sites,
            "seconds": round((datetime.now(UTC) - started).total_seconds(), 1)}


def _extravars(verb: Verb, run_id: str, request: RunRequest) -> dict[str, Any]:
    # never secrets: these land on the ansible-playbook command line and in artifacts
    return {"ccops_run_id": run_id, "ccops_action": verb.action, "ccops_change_id": request.change_id or "",
            **request.options}


def _refuse_offline(inventory: Inventory) -> None:
    if inventory.offline:
        raise CcopsError(f"{inventory.config_file}: this inventory is marked offline: true "
                         "(for planning and review only); ccops runs nothing against it")


def _summary(outcomes: list[HostOutcome]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(_count(outcomes).items()))


def secret_env_names(inventory: Inventory) -> set[str]:
    names = set()
    for site in inventory.sites.values():
        for profile in site.connections.values():
            for key in ("password", "become_password"):
                ref = profile.get(key) or {}
                if "env" in ref:
                    names.add(ref["env"])
    return names


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def operator() -> str:
    return os.environ.get("CCOPS_OPERATOR") or getpass.getuser()


def git_commit() -> str | None:
    root = project_root()
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


def rotate_run_dirs(runs: Path, keep: int) -> None:
    """Keep the artifacts of the newest ``keep`` runs; records stay in the store for ever."""
    if not runs.is_dir():
        return
    dirs = sorted((p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in dirs[:-keep] if keep > 0 else dirs:
        shutil.rmtree(old, ignore_errors=True)
