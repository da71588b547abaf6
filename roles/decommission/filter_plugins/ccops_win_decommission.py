"""Filters of the decommission, decided on the controller: which final backup a resume verifies
(ccops.decommission.recorded, every OS family), whose access the Windows release removes
(ccops.windows.release) and what the Windows wipe overwrites, unlinks and clears (ccops.windows.wipe)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ccops.decommission.recorded import mark_check
from ccops.windows.facts import DamagedFacts
from ccops.windows.release import release_plan
from ccops.windows.wipe import wipe_plan, wipe_results


def ccops_win_release(accounts, connection_user, groups):
    return release_plan([str(a) for a in accounts or []], str(connection_user or ""), [str(g) for g in groups or []])


def ccops_win_wipe_plan(paths, found):
    try:
        return wipe_plan([str(p) for p in paths or []], found)
    except DamagedFacts as exc:
        raise AnsibleFilterError(f"sanitise: {exc}") from None


def ccops_win_wipe_results(paths, plan, action, cipher, resumed=False):
    try:
        return wipe_results([str(p) for p in paths or []], plan, action, cipher, bool(resumed))
    except DamagedFacts as exc:
        raise AnsibleFilterError(f"sanitise: {exc}") from None


def ccops_decommission_mark_check(mark, recorded):
    """Every OS family: the final backup a resume verifies, from the run record, never the mark."""
    return mark_check(mark, recorded)


class FilterModule:
    def filters(self):
        return {
            "ccops_decommission_mark_check": ccops_decommission_mark_check,
            "ccops_win_release": ccops_win_release,
            "ccops_win_wipe_plan": ccops_win_wipe_plan,
            "ccops_win_wipe_results": ccops_win_wipe_results,
        }
