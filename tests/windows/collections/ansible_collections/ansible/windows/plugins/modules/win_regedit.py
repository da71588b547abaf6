# Contract-test stand-in for ansible.windows.win_regedit (options from win_regedit.ps1). Values
# live in the seat's model under "registry": {"PATH\\NAME": data}.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "path": {"type": "str", "required": True, "aliases": ["key"]},
    "name": {"type": "str", "aliases": ["entry", "value"]},
    "data": {"type": "raw"},
    "type": {
        "type": "str",
        "default": "string",
        "choices": ["none", "binary", "dword", "expandstring", "multistring", "string", "qword"],
        "aliases": ["datatype"],
    },
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "delete_key": {"type": "bool", "default": True},
    "hive": {"type": "path"},
}


def handle(params, state):
    registry = state.setdefault("registry", {})
    key = f"{params['path']}\\{params['name']}"
    data = int(params["data"]) if params["type"] in ("dword", "qword") else params["data"]
    if params["state"] == "absent":
        return "win_regedit.absent", {"changed": registry.pop(key, None) is not None, "data_changed": False}
    changed = registry.get(key) != data
    registry[key] = data
    return "win_regedit", {"changed": changed, "data_changed": changed, "data_type_changed": False}


if __name__ == "__main__":
    run_checked("win_regedit", SPEC, handle)
