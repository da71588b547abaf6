"""Filters of the Windows decommission, decided on the controller: whose access the release removes
(ccops.win_release) and what the wipe overwrites, unlinks and clears (ccops.win_wipe)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ccops.win_facts import DamagedFacts
from ccops.win_release import release_plan
from ccops.win_wipe import wipe_plan, wipe_results


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


class FilterModule:
    def filters(self):
        return {
            "ccops_win_release": ccops_win_release,
            "ccops_win_wipe_plan": ccops_win_wipe_plan,
            "ccops_win_wipe_results": ccops_win_wipe_results,
        }
