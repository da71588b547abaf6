# Contract-test stand-in for ansible.windows.win_hosts (spec and required_if from win_hosts.ps1).
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "state": {"type": "str", "default": "present", "choices": ["absent", "present"]},
    "aliases": {"type": "list", "elements": "str"},
    "canonical_name": {"type": "str"},
    "ip_address": {"type": "str"},
    "action": {"type": "str", "default": "set", "choices": ["add", "remove", "set"]},
}
RULES = {"required_if": [["state", "present", ["canonical_name", "ip_address"]]]}


def handle(params, state):
    lines = state.setdefault("hosts_lines", [])
    line = f"{params['ip_address']} {params['canonical_name']}"
    changed = params["state"] == "present" and line not in lines
    if changed:
        lines.append(line)
    return "win_hosts", {"changed": changed}


if __name__ == "__main__":
    run_checked("win_hosts", SPEC, handle, **RULES)
