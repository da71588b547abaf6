"""A re-keyed host kept in the run records, like any other change to the fleet.

Here, above the runner, so that runner/hostkeys.py (which the runner's events read) imports nothing of run/.
"""

from __future__ import annotations

from typing import Any

from ccops.inventory.model import Inventory
from ccops.run.execute import open_store
from ccops.run.identity import git_commit, new_run_id, operator


def record_change(inventory: Inventory, host: str, change: dict[str, Any], change_id: str | None) -> str:
    """Keep the re-key in the run records, like any other change to the fleet."""
    store = open_store()
    run_id = new_run_id()
    store.start_run(
        run_id,
        "hostkey",
        operator=operator(),
        change_id=change_id,
        git_commit=git_commit(),
        inventory=str(inventory.root),
        inventory_sha256=inventory.digest(),
        selectors={"limit": [host]},
        request={},
        plan=[],
    )
    message = (
        f"host key of {change['endpoint']} in {change['known_hosts']}: "
        f"{', '.join(change['recorded']) or 'none'} -> {', '.join(change['presented'])}"
    )
    store.record_hosts(
        run_id, [{"host": host, "outcome": "changed", "changed": 1, "message": message, "report": change}]
    )
    store.finish_run(run_id, "succeeded", 0, message)
    return run_id
