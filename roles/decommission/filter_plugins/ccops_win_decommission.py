"""Filter ccops_win_release: whose remote access a Windows decommission removes (ccops.win_release)."""

from __future__ import annotations

from ccops.win_release import release_plan


def ccops_win_release(accounts, connection_user, groups):
    return release_plan([str(a) for a in accounts or []], str(connection_user or ""), [str(g) for g in groups or []])


class FilterModule:
    def filters(self):
        return {"ccops_win_release": ccops_win_release}
