"""Inventory checks for Windows hosts that guard a whole verb (decommission today).

Kept here, not in ccops.inventory validation (owned elsewhere): inventory validation
should call :func:`restore_card_problem` for every host so a bad card type is refused
for every verb, not only by the verbs that call it now.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccops.verbs import restore_card_type

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ccops.inventory.model import Host

# restore card types whose tasks exist for the family (roles/restore_card/tasks/<type>.yml)
CARDS = {"windows": ("none", "uwf", "deepfreeze"), "debian": ("none", "lab", "command")}


def restore_card_problem(host: Host, merged_vars: Mapping[str, Any]) -> str | None:
    """One line when the host's restore card type cannot run on its OS family, else None.

    A ``command`` or ``lab`` card on a Windows seat would run a Linux command (or nothing
    at all) where a write filter must be switched off: the change would then vanish at
    the next boot while the run reports it done.
    """
    card = restore_card_type(merged_vars)
    allowed = CARDS.get(host.os_family)
    if allowed is None or card in allowed:
        return None
    return (
        f"{host.name}: restore card {card!r} does not exist on {host.os_family} "
        f"(patch_restore_card: one of {', '.join(allowed)})"
    )
