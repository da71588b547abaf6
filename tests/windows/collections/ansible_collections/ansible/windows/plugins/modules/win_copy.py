# Contract-test stand-in for ansible.windows.win_copy (no action plugin: the
# controller file is read directly). See module_utils/fakewin.py.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import run, write_file

SPEC = {"src": {"type": "path"}, "dest": {"type": "path", "required": True}, "content": {"type": "str"},
        "backup": {"type": "bool", "default": False}, "force": {"type": "bool", "default": True},
        "local_follow": {"type": "bool", "default": True}, "remote_src": {"type": "bool", "default": False},
        "decrypt": {"type": "bool", "default": True}}


def handle(params, state):
    if params["content"] is not None:
        data = params["content"].encode()
    else:
        with open(params["src"], "rb") as f:
            data = f.read()
    write_file(params["dest"], data)
    return "win_copy", {"changed": True, "dest": params["dest"], "size": len(data)}


if __name__ == "__main__":
    run("win_copy", SPEC, handle)
