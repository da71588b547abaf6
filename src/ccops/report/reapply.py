"""The patch run that puts back what a restore card took back: ``ccops reapply`` and ``run: reapply`` schedules.

Only the selected hosts whose newest inspection is a ``reverted`` finding (ccops.report.reverted)
are planned, with the snapshots the reverted runs used; the request says why
(``reason: reverted after RUN``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccops.inventory.select import Selector
    from ccops.report.reverted import Reapply
    from ccops.run.request import RunRequest
    from ccops.store.records import Store


def reapply_request(
    store: Store,
    path: Path,
    selector: Selector,
    change_id: str,
    source: str | None = None,
    batch_size: int | None = None,
    forks: int = 25,
    emergency: bool = False,
) -> tuple[RunRequest | None, Reapply | None]:
    """The patch run of the selected hosts that took back an approved patch (None: there are none)."""
    from ccops.inventory.load import load_inventory
    from ccops.inventory.select import Selector
    from ccops.report.reverted import findings, reapply_plan, runs_for
    from ccops.run.request import RunRequest

    model = load_inventory(path)
    runs = runs_for(store)
    if source is not None:
        source = store.resolve_run(source).id
    chosen = [h.name for h in model.hosts.values() if selector.matches(h)]
    plan = reapply_plan(findings(store, chosen, runs), runs, source)
    if plan is None:
        return None, None
    request = RunRequest(
        path,
        "patch",
        Selector(limit=tuple(plan.hosts)),
        change_id=change_id,
        batch_size=batch_size,
        forks=forks,
        emergency=emergency,
        options=plan.options,
        reason=plan.reason,
    )
    return request, plan
