"""The offline guard: an inventory marked ``offline: true`` is never contacted.

Such an inventory (inventory/example) is for planning and review: its addresses may
be illustrative or belong to someone else. Every path that opens a connection to a
host passes here first; the CLI's connecting commands before any prompt
(ccops.cli.connecting), the run, resume and staging code again before they start a process.
"""

from __future__ import annotations

from pathlib import Path

from ccops.errors import RefusedError
from ccops.inventory.model import Inventory


def refuse_offline(inventory: Inventory) -> None:
    """One line naming the inventory's file, exit EXIT_REFUSED: nothing was started."""
    if inventory.offline:
        raise RefusedError(
            f"{inventory.config_file}: this inventory is marked offline: true "
            "(for planning and review only); ccops runs nothing against it"
        )


def refuse_offline_at(path: Path) -> Inventory:
    """Load the inventory at ``path`` for a command that is about to contact its hosts."""
    from ccops.inventory.load import load_inventory

    inventory = load_inventory(path)
    refuse_offline(inventory)
    return inventory
