"""Filters of the Windows backup folders, decided on the controller (ccops.windows.folders):
which folders are locked, whether win_stat's view of them allows it, whether the lock holds."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ccops.windows.facts import DamagedFacts
from ccops.windows.folders import acl_problems, chain_problems, folder_chain


def ccops_win_backup_folders(folder: Any) -> list[str]:
    try:
        return folder_chain(str(folder))
    except DamagedFacts as exc:
        raise AnsibleFilterError(f"backup folder: {exc}") from None


def ccops_win_folder_problems(stats: Any, chain: Any) -> list[str]:
    return chain_problems([str(p) for p in chain or []], stats)


def ccops_win_lock_problems(locks: Any) -> list[str]:
    """Each locked folder's problems, "folder: problem", from the lock action's loop result."""
    results = locks.get("results") if isinstance(locks, dict) else None
    if not isinstance(results, list) or not results:
        return ["the lock action reported nothing"]
    problems = []
    for result in results:
        item = result.get("item") if isinstance(result, dict) else None
        reported = result.get("result") if isinstance(result, dict) else None
        sddl = reported.get("sddl") if isinstance(reported, dict) else None
        problems += [f"{item}: {problem}" for problem in acl_problems(sddl)]
    return problems


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "ccops_win_backup_folders": ccops_win_backup_folders,
            "ccops_win_folder_problems": ccops_win_folder_problems,
            "ccops_win_lock_problems": ccops_win_lock_problems,
        }
