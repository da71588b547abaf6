# Contract-test stand-in for ansible.windows.win_copy (no action plugin: the
# controller file is read directly). See module_utils/fakewin.py.
from __future__ import annotations

from pathlib import Path

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import run, write_file

SPEC = {
    "src": {"type": "path"},
    "dest": {"type": "path", "required": True},
    "content": {"type": "str"},
    "backup": {"type": "bool", "default": False},
    "force": {"type": "bool", "default": True},
    "local_follow": {"type": "bool", "default": True},
    "remote_src": {"type": "bool", "default": False},
    "decrypt": {"type": "bool", "default": True},
}


def handle(params, state):
    data = params["content"].encode() if params["content"] is not None else Path(params["src"]).read_bytes()
    write_file(params["dest"], data)
    return "win_copy", {"changed": True, "dest": params["dest"], "size": len(data)}


if __name__ == "__main__":
    run("win_copy", SPEC, handle)
