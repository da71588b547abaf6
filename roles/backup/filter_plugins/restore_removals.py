"""Filters of the Windows restore's removals, decided on the controller (ccops.windows.removal):
which declared paths are listed, and which links and paths are removed, one action each."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ccops.windows.facts import DamagedFacts
from ccops.windows.removal import folders_to_list, removal_plan


def ccops_win_restore_folders(stats: Any, paths: Any) -> list[str]:
    try:
        return folders_to_list([str(p) for p in paths or []], stats)
    except DamagedFacts as exc:
        raise AnsibleFilterError(f"restore refused, nothing removed: {exc}") from None


def ccops_win_restore_removals(found: Any, paths: Any, stats: Any) -> list[dict[str, str]]:
    try:
        return removal_plan([str(p) for p in paths or []], stats, found)
    except DamagedFacts as exc:
        raise AnsibleFilterError(f"restore refused, nothing removed: {exc}") from None


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "ccops_win_restore_folders": ccops_win_restore_folders,
            "ccops_win_restore_removals": ccops_win_restore_removals,
        }
