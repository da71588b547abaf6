"""Run a lifecycle verb: the library call behind every verb command.

load inventory -> select hosts -> plan waves -> run each batch through the
runner -> record every host's outcome. The CLI only parses and prints.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccops.errors import EXIT_HOSTS_FAILED, EXIT_INTERRUPTED, EXIT_OK, CcopsError
from ccops.inventory.load import load_inventory
from ccops.inventory.model import Inventory
from ccops.paths import project_root, state_dir
from ccops.plan import Plan, build_plan
from ccops.records import Store
from ccops.runner.engine import Batch, run_batch
from ccops.runner.events import FAILING, EventCollector, HostOutcome
from ccops.runner.progress import Progress
from ccops.select import Selector, select
from ccops.verbs import get_verb

KEEP_RUN_DIRS = int(os.environ.get("CCOPS_KEEP_RUNS", "50"))


@dataclass
class RunRequest:
    inventory: Path
    verb: str
    selector: Selector = field(default_factory=Selector)
    change_id: str | None = None
    batch_size: int | None = None
    forks: int = 25


@dataclass
class RunResult:
    run_id: str
    verb: str
    status: str  # succeeded, failed, interrupted
    exit_code: int
    hosts: list[HostOutcome]
    reports: dict[str, dict]
    started: str
    ended: str

    def as_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "verb": self.verb, "status": self.status,
                "exit_code": self.exit_code, "started": self.started, "ended": self.ended,
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
    inventory = plan.inventory
    if inventory.offline:
        raise CcopsError(f"{inventory.config_file}: this inventory is marked offline: true "
                         "(for planning and review only); ccops runs nothing against it")
    progress = progress or Progress(enabled=False)
    store = open_store()
    run_id = new_run_id()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    store.start_run(run_id, plan.verb.name, operator=operator(), change_id=request.change_id,
                    git_commit=git_commit(), inventory=str(inventory.root),
                    inventory_sha256=inventory.digest(), selectors=request.selector.as_dict())
    progress.say(f"run {run_id}: {plan.verb.name} on {len(plan.hosts)} host(s)")
    interrupted = _Interrupt()
    outcomes: list[HostOutcome] = []
    reports: dict[str, dict] = {}
    status, code = "failed", EXIT_HOSTS_FAILED
    try:
        with interrupted:
            for wave_no, wave in enumerate(plan.waves, 1):
                for batch_no, batch in enumerate(wave.batches, 1):
                    if interrupted.flag:
                        break
                    progress.batch(wave.name, batch_no, len(wave.batches), batch.site, len(batch.hosts))
                    collector = EventCollector(on_event=progress)
                    names = [h.name for h in batch.hosts]
                    run_batch(state_dir() / "runs" / run_id,
                              Batch(f"w{wave_no}-b{batch_no}", f"playbooks/{plan.verb.playbook}",
                                    inventory.config_file, names, _extravars(plan, run_id, request), request.forks),
                              collector, lambda: interrupted.flag, secret_env_names(inventory))
                    batch_outcomes = collector.outcomes(names)
                    for outcome in batch_outcomes:
                        store.record_hosts(run_id, [{**outcome.as_record(), "wave": wave.name}])
                    outcomes += batch_outcomes
                    reports.update({h: r for h, r in collector.reports.items() if h in names})
                    if plan.verb.name == "inspect" and collector.reports:
                        store.save_assets(run_id, collector.reports)
        if interrupted.flag:
            status, code = "interrupted", EXIT_INTERRUPTED
        elif any(o.outcome in FAILING for o in outcomes):
            status, code = "failed", EXIT_HOSTS_FAILED
        else:
            status, code = "succeeded", EXIT_OK
    except BaseException as exc:
        store.finish_run(run_id, "error", getattr(exc, "exit_code", 1), str(exc)[:500])
        raise
    store.finish_run(run_id, status, code, _summary(outcomes))
    rotate_run_dirs(state_dir() / "runs", KEEP_RUN_DIRS)
    return RunResult(run_id, plan.verb.name, status, code, outcomes, reports, started,
                     datetime.now(UTC).isoformat(timespec="seconds"))


def _extravars(plan: Plan, run_id: str, request: RunRequest) -> dict[str, Any]:
    # never secrets: these land on the ansible-playbook command line and in artifacts
    return {"ccops_run_id": run_id, "ccops_action": plan.verb.action,
            "ccops_change_id": request.change_id or ""}


def _summary(outcomes: list[HostOutcome]) -> str:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.outcome] = counts.get(o.outcome, 0) + 1
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def secret_env_names(inventory: Inventory) -> set[str]:
    names = set()
    for site in inventory.sites.values():
        for profile in site.connections.values():
            for key in ("password", "become_password"):
                ref = profile.get(key) or {}
                if "env" in ref:
                    names.add(ref["env"])
    return names


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
