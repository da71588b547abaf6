# Contract-test stand-in for ansible.windows.win_firewall (options from win_firewall.ps1).
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "profiles": {
        "type": "list",
        "elements": "str",
        "default": ["Domain", "Private", "Public"],
        "choices": ["Domain", "Private", "Public"],
    },
    "state": {"type": "str", "choices": ["disabled", "enabled"], "required": True},
    "inbound_action": {"type": "str", "choices": ["allow", "block", "not_configured"]},
    "outbound_action": {"type": "str", "choices": ["allow", "block", "not_configured"]},
}


def handle(params, state):
    changed = False
    for profile in state.setdefault("firewall_profiles", []):
        if profile["name"] in params["profiles"]:
            want = {"enabled": params["state"] == "enabled", "inbound": params["inbound_action"].capitalize()}
            changed = changed or any(profile[k] != v for k, v in want.items())
            profile.update(want)
    return "win_firewall", {"changed": changed}


if __name__ == "__main__":
    run_checked("win_firewall", SPEC, handle)
