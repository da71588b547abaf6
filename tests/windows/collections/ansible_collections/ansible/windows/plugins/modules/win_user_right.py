# Contract-test stand-in for ansible.windows.win_user_right (win_user_right.ps1: users resolved
# to SIDs; result added/removed). Removing the right a WinRM logon needs from the connection
# account locks the controller out: every later task of that seat fails to log on.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_accounts import NotAnAccount, from_sid, to_sid
from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "name": {"type": "str", "required": True},
    "users": {"type": "list", "elements": "str", "required": True},
    "action": {"type": "str", "choices": ["add", "remove", "set"], "default": "set"},
}


def handle(params, state):
    holders = state.setdefault("rights", {}).setdefault(params["name"], [])
    try:
        sids = [to_sid(state, u) for u in params["users"]]
    except NotAnAccount as exc:
        return "win_user_right", {"failed": True, "changed": False, "msg": str(exc)}
    result = {"changed": False, "added": [], "removed": []}
    for sid in sids:
        if params["action"] == "remove" and sid in holders:
            holders.remove(sid)
            result["removed"].append(from_sid(state, sid))
        elif params["action"] in ("add", "set") and sid not in holders:
            holders.append(sid)
            result["added"].append(from_sid(state, sid))
    if params["action"] == "set":
        for sid in [s for s in holders if s not in sids]:
            holders.remove(sid)
            result["removed"].append(from_sid(state, sid))
    result["changed"] = bool(result["added"] or result["removed"])
    connection = state.get("connection_sid")
    if params["name"] == "SeNetworkLogonRight" and connection and connection not in holders:
        state["locked_out"] = True  # the next WinRM logon of the connection account is refused
    return "win_user_right." + params["action"], result


if __name__ == "__main__":
    run_checked("win_user_right", SPEC, handle)
