# Contract-test stand-in for ansible.windows.win_group_membership (win_group_membership.ps1:
# members resolved by Convert-ToSID, compared by SID; result added/removed/members).
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_accounts import NotAnAccount, from_sid, to_sid
from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "name": {"type": "str", "required": True},
    "members": {"type": "list", "elements": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent", "pure"], "default": "present"},
}


def handle(params, state):
    groups = state.setdefault("groups", {})
    result = {"changed": False, "name": params["name"]}
    if params["state"] in ("present", "pure"):
        result["added"] = []
    if params["state"] in ("absent", "pure"):
        result["removed"] = []
    if params["name"] not in groups:
        return "win_group_membership", {**result, "failed": True, "msg": f"Could not find local group {params['name']}"}
    try:
        wanted = [to_sid(state, m) for m in params["members"]]
    except NotAnAccount as exc:
        return "win_group_membership", {**result, "failed": True, "msg": str(exc)}
    members = groups[params["name"]]
    for sid in wanted:
        if params["state"] in ("present", "pure") and sid not in members:
            members.append(sid)
            result["added"].append(from_sid(state, sid))
            result["changed"] = True
        elif params["state"] == "absent" and sid in members:
            members.remove(sid)
            result["removed"].append(from_sid(state, sid))
            result["changed"] = True
    if params["state"] == "pure":
        for sid in [s for s in members if s not in wanted]:
            members.remove(sid)
            result["removed"].append(from_sid(state, sid))
            result["changed"] = True
    result["members"] = [from_sid(state, s) for s in members]
    return "win_group_membership." + params["state"], result


if __name__ == "__main__":
    run_checked("win_group_membership", SPEC, handle)
