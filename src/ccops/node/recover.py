"""What a batch did on its node after the stream was lost (link drop, killed controller).

The engine writes runs/RUN/node-jobs/IDENT.json before a job starts and removes it once the
job's whole stream has come back. ``ccops resume`` asks the node about every job still listed:
the node's helper waits for the job to end, hands over its journal (the job's events, no
secrets) and removes the job's folder. The events are judged exactly as if they had streamed,
recorded, and the hosts that finished are not run again; hosts the journal does not show
finishing start over (a patch cut off half-way left its mark on the host).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ccops.errors import CcopsError
from ccops.hostdata.journal import journal_done, journal_line
from ccops.inventory.model import Inventory
from ccops.node.agent import sweep_stale_agents
from ccops.node.engine import pending_dir
from ccops.node.prepare import CURRENT, ssh
from ccops.node.target import node_target
from ccops.runner.events import EventCollector, HostOutcome


def collect_node_jobs(
    run_dir: Path,
    inventory: Inventory,
    timeout: float,
    say: Callable[[str], None],
    judge: Callable[[EventCollector, list[str]], list[HostOutcome]],
    record: Callable[[list[HostOutcome], dict[str, dict[str, Any]]], None],
) -> list[HostOutcome]:
    """Collect every job the run left on a node; returns the outcomes learned (and recorded)."""
    learned: list[HostOutcome] = []
    for pid in sweep_stale_agents():  # a killed controller's job agents: their keys go now
        say(f"stopped ssh agent pid {pid} left by a controller that is gone")
    for path in sorted(pending_dir(run_dir).glob("*.json")):
        job = json.loads(path.read_text())
        site = inventory.sites.get(job["site"])
        target = node_target(inventory, site) if site else None
        if target is None:
            say(f"site {job['site']} has no node any more: batch {job['ident']}'s hosts start over")
            path.unlink()
            continue
        say(f"asking {target.label()} what job {job['job']} did (waiting up to {timeout:g}s for it to end)")
        remote = ("python3", f"{CURRENT}/ccops_node.py", "collect", job["job"], str(int(timeout)))
        try:
            out = ssh(target, *remote, timeout=timeout + 120)
        except CcopsError as exc:
            raise CcopsError(f"{exc}; the hosts of batch {job['ident']} stay unknown: resume again") from None
        collector, done = _replay(out, run_dir / "artifacts" / f"{job['ident']}-recovered")
        if done.get("status") == "gone":
            say(f"{target.label()} no longer has job {job['job']} (restarted?): its hosts start over")
        else:
            say(f"job {job['job']} on {target.label()} ended {done.get('status')}: {len(collector.reports)} report(s)")
        outcomes = judge(collector, job["hosts"]) if collector.stats is not None else []
        record(outcomes, collector.reports)
        learned += outcomes
        path.unlink()
    return learned


def _replay(out: str, artifacts: Path) -> tuple[EventCollector, dict[str, Any]]:
    """Feed the journal's events to a collector; keep them as the batch's recovered artifacts."""
    collector = EventCollector()
    done: dict[str, Any] = {}
    events = artifacts / "job_events"
    events.mkdir(parents=True, exist_ok=True)
    for number, line in enumerate(out.splitlines(), start=1):
        data = journal_line(line)  # the node's answer is host data: a mapping per line, or skipped
        if data is None:
            continue
        if "ccops_done" in data:
            done = journal_done(data["ccops_done"])
        elif "event" in data and data.get("uuid"):
            collector(data)
            # named by the journal's own line number: a node's uuid or counter is its text,
            # and "../../x" in a file name would write outside the artifacts folder
            (events / f"{number:07d}.json").write_text(json.dumps(data))
    return collector, done
