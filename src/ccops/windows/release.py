"""The last step of a Windows decommission, decided on the controller: whose remote access goes.

Every WinRM task is a new logon of the connection account, so its own rights and group
memberships are never removed while the run needs them: it loses its access when the
seat leaves the domain and powers off (the last task). The filter plugin
roles/decommission/filter_plugins/ccops_win_decommission.py exposes :func:`release_plan`.
"""

from __future__ import annotations

from typing import Any

# what the accounts released lose, one named action per account and right or group
RIGHTS = ("SeNetworkLogonRight", "SeRemoteInteractiveLogonRight")


def account_key(account: str) -> str:
    """The bare user name of 'DOM\\user', 'user@realm', '.\\user' or 'user', for a conservative
    comparison: two spellings of one account always match (a same-named account elsewhere is kept too)."""
    name = account.strip().lower()
    name = name.rsplit("\\", 1)[-1]
    return name.split("@", 1)[0]


def release_plan(accounts: list[str], connection_user: str, groups: list[str]) -> dict[str, Any]:
    """One action per account and right, per account and group; the connection account is kept."""
    kept = account_key(connection_user) if connection_user else ""
    released = []
    for account in accounts:
        if account.strip() and account_key(account) != kept and account not in released:
            released.append(account)
    return {
        "accounts": released,
        "rights": [{"account": a, "right": r} for a in released for r in RIGHTS],
        "groups": [{"account": a, "group": g} for a in released for g in groups],
        "kept": connection_user,
    }
