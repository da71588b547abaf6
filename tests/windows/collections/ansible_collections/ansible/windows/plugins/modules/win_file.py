# Contract-test stand-in for ansible.windows.win_file. See module_utils/fakewin.py.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import remove_tree, run

SPEC = {
    "path": {"type": "path", "required": True, "aliases": ["dest", "name"]},
    "state": {"type": "str", "choices": ["absent", "directory", "file", "touch"]},
}


def handle(params, state):
    if params["state"] == "absent":
        return "win_file.absent", {"changed": remove_tree(params["path"])}
    return "win_file." + (params["state"] or "file"), {"changed": False}


if __name__ == "__main__":
    run("win_file", SPEC, handle)
