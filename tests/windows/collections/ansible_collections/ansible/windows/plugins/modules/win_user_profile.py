# Contract-test stand-in for ansible.windows.win_user_profile (win_user_profile.ps1 options and
# required_if: present needs username; absent needs name or username).
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "name": {"type": "str"},
    "remove_multiple": {"type": "bool", "default": False},
    "state": {"type": "str", "default": "present", "choices": ["absent", "present"]},
}
# username (type sid, no Python twin) is left out: ccops removes a profile by its folder name
RULES = {"required_if": [["state", "present", ["username"]], ["state", "absent", ["name", "username"], True]]}


def handle(params, state):
    profiles = state.setdefault("profiles", [])
    name = params["name"]
    gone = [p for p in profiles if p.lower() == name.lower()]
    for p in gone:
        profiles.remove(p)
    return "win_user_profile." + params["state"], {
        "changed": bool(gone),
        "path": f"C:\\Users\\{name}" if gone else None,
    }


if __name__ == "__main__":
    run_checked("win_user_profile", SPEC, handle, **RULES)
