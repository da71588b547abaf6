"""Held hosts in the fleet views: one ``held`` risk per host held now, and the morning page's count.

ccops.report.risks and ccops.report.morning call these with the holds read once (``holds(store, active=False)``):
the count at an earlier moment (a day, a week ago) comes from the same rows' since and lifted times.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ccops.store.holds import Hold, held_at, now_text

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory

KIND = "held"


def held_risks(inventory: Inventory, all_holds: list[Hold], sites: set[str] | None = None) -> list[dict[str, Any]]:
    """One ``held`` risk per host of the chosen sites (all by default) held apart now."""
    chosen = sites or set(inventory.sites)
    out = []
    for hold in all_holds:
        host = inventory.hosts.get(hold.host)
        if hold.lifted is not None or host is None or host.site not in chosen:
            continue
        applied = f"; applied by run {hold.applied_run}" if hold.applied_run else "; not applied to the host yet"
        out.append(
            {
                "site": host.site,
                "host": host.name,
                "kind": KIND,
                "detail": f"held apart since {hold.since} ({hold.kind}): {'; '.join(hold.reasons)}{applied}",
                "since": hold.since,
                "automatic": hold.automatic,
                "run_id": hold.applied_run,
            }
        )
    return out


def held_apart(all_holds: list[Hold], site: str, when: datetime) -> int:
    """The morning page's "held apart" number for ``site`` at ``when``."""
    return held_at(all_holds, site, now_text(when))
