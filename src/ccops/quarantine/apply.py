"""Every change of a hold is a recorded ``comply --fix`` run on the hosts it concerns.

The holds are written after the operator confirmed and before the run's snapshot is
written, so the run's host variables carry the overlay (ccops.inventory.compliance). The run's
request carries the reason; the hold rows name the run that applied or lifted them.
A run that does not reach a host (unreachable, refused, never run) leaves the hold recorded
without an applying run: other hosts still drop it at their next comply --fix, and the held
host's own firewall follows at its next comply --fix that reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ccops.inventory.compliance import set_held
from ccops.store.holds import Hold, active_by_host, lift, note_run, now_text, put

if TYPE_CHECKING:
    from ccops.run import PreparedRun, RunRequest, RunResult
    from ccops.runner.progress import Progress
    from ccops.store.records import Store

# host outcomes of a comply --fix run that reached the host (a failed one was reached and judged)
REACHED = ("ok", "changed", "failed")
REASON_MAX = 2000  # a run record keeps the reason; hundreds of hosts' reasons are summarised


_APPLYING: list[str] = []  # the change whose own comply --fix run this process runs now


def applying() -> bool:
    """Whether this process is running a hold change's own comply --fix: its end judges no holds (the
    run that applies a hold must never count as the check that lifts it)."""
    return bool(_APPLYING)


@dataclass
class Change:
    holds: list[Hold] = field(default_factory=list)
    lifts: dict[str, str] = field(default_factory=dict)  # host -> why
    run_hosts: list[str] = field(default_factory=list)  # the hosts the comply --fix run reaches

    def reason(self) -> str:
        parts = [f"hold {h.host} ({h.kind}): {'; '.join(h.reasons)}" for h in self.holds]
        parts += [f"lift {host}: {why}" for host, why in self.lifts.items()]
        text = "quarantine: " + " | ".join(parts)
        return text if len(text) <= REASON_MAX else text[: REASON_MAX - 3] + "..."


def request(inventory: Path, change: Change, change_id: str, emergency: bool = False, forks: int = 25) -> RunRequest:
    from ccops.inventory.select import Selector
    from ccops.run import RunRequest

    return RunRequest(
        inventory,
        "comply",
        Selector(limit=tuple(change.run_hosts)),
        change_id=change_id,
        forks=forks,
        emergency=emergency,
        reason=change.reason(),
    )


def record(store: Store, change: Change, change_id: str) -> list[Hold]:
    """Write the change's holds and lifts (before its run): the holds as stored."""
    stored = put(store, [Hold(**{**h.__dict__, "change_id": change_id}) for h in change.holds])
    lift(store, change.lifts, now_text())
    return stored


def apply(
    store: Store, prepared: PreparedRun | None, change: Change, change_id: str, progress: Progress | None = None
) -> tuple[list[Hold], RunResult | None]:
    """Record the change, then run comply --fix on its hosts (``prepared``; None: no host to reach)."""
    from ccops.run import execute

    stored = record(store, change, change_id)
    if prepared is None:
        return stored, None
    set_held(prepared.inventory, frozenset(active_by_host(store)))
    _APPLYING.append(change_id)
    try:
        result = execute(prepared, progress)
    finally:
        _APPLYING.pop()
    reached = {o.host for o in result.hosts if o.outcome in REACHED}
    note_run(store, [h.host for h in change.holds if h.host in reached], result.run_id, lifted=False)
    note_run(store, [h for h in change.lifts if h in reached], result.run_id, lifted=True)
    return stored, result
