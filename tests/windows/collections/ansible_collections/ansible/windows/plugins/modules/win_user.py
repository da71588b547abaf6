# Contract-test stand-in for ansible.windows.win_user (options from win_user.ps1; password
# no_log). Like the real module, a new account is written (SetInfo) before account_disabled
# is applied, so without a password it fails where the seat's password policy asks for one.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_accounts import machine_sid
from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "account_disabled": {"type": "bool"},
    "account_expires": {"type": "str"},
    "account_locked": {"type": "bool"},
    "description": {"type": "str"},
    "fullname": {"type": "str"},
    "groups": {"type": "list", "elements": "str"},
    "groups_action": {"type": "str", "choices": ["add", "remove", "replace"], "default": "replace"},
    "home_directory": {"type": "str"},
    "login_script": {"type": "str"},
    "name": {"type": "str", "required": True},
    "password": {"type": "str", "no_log": True},
    "password_expired": {"type": "bool"},
    "password_never_expires": {"type": "bool"},
    "profile": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent", "query"], "default": "present"},
    "update_password": {"type": "str", "choices": ["always", "on_create"], "default": "always"},
    "user_cannot_change_password": {"type": "bool"},
}


def _find(state, name):
    return next((n for n in state.setdefault("local_users", {}) if n.lower() == name.lower()), None)


def handle(params, state):
    users = state.setdefault("local_users", {})
    found = _find(state, params["name"])
    changed = False
    if params["state"] == "absent":
        if found:
            sid = users.pop(found)["sid"]
            for members in state.get("groups", {}).values():
                if sid in members:
                    members.remove(sid)
            changed = True
        return "win_user.absent", {"changed": changed, "name": params["name"], "state": "absent"}
    if params["state"] == "query":
        pass
    elif found is None:
        password = params["password"]
        if password is None and state.get("password_min_length", 0) > 0:
            return "win_user.create", {
                "failed": True,
                "changed": False,
                "msg": 'Exception calling "SetInfo" with "0" argument(s): "The password does not meet the password '
                "policy requirements. Check the minimum password length, password complexity and password history "
                'requirements."',
            }
        rid = 1000 + len(users) + 1
        users[params["name"]] = {
            "sid": f"{machine_sid(state)}-{rid}",
            "enabled": True,  # SetInfo makes an enabled account; account_disabled is applied after
            "full_name": "",
            "password": password or "",
        }
        found, changed = params["name"], True
    if found and params["state"] == "present":
        changed = _update(params, state, users[found]) or changed
    result = {"changed": changed, "name": params["name"], "state": "present" if found else "absent"}
    if found:
        user = users[found]
        result.update(fullname=user["full_name"], account_disabled=not user["enabled"], sid=user["sid"])
    return "win_user." + params["state"], result


def _update(params, state, user):
    changed = False
    if params["fullname"] is not None and user["full_name"] != params["fullname"]:
        user["full_name"], changed = params["fullname"], True
    if params["account_disabled"] is not None and user["enabled"] == params["account_disabled"]:
        user["enabled"], changed = not params["account_disabled"], True
    if (
        params["password"] is not None
        and params["update_password"] == "always"
        and user["password"] != params["password"]
    ):
        user["password"], changed = params["password"], True
    if params["groups"] is not None and params["groups_action"] == "replace" and not params["groups"]:
        for members in state.get("groups", {}).values():
            if user["sid"] in members:
                members.remove(user["sid"])
                changed = True
    return changed


if __name__ == "__main__":
    run_checked("win_user", SPEC, handle)
