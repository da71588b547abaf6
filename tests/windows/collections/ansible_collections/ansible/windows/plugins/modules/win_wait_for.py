# Contract-test stand-in for ansible.windows.win_wait_for. See module_utils/fakewin.py.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import run

SPEC = {
    "host": {"type": "str", "default": "127.0.0.1"},
    "port": {"type": "int"},
    "timeout": {"type": "int", "default": 300},
    "state": {"type": "str", "default": "started", "choices": ["absent", "drained", "present", "started", "stopped"]},
    "delay": {"type": "int"},
    "path": {"type": "path"},
    "sleep": {"type": "int", "default": 1},
    "connect_timeout": {"type": "int", "default": 5},
    "exclude_hosts": {"type": "list", "elements": "str"},
    "regex": {"type": "str", "aliases": ["regexp", "search_regex"]},
}


def handle(params, state):
    listening = state.get("listening", {}).get(str(params["port"]), [])
    if params["host"] not in listening:
        return "win_wait_for", {
            "failed": True,
            "elapsed": params["timeout"],
            "wait_attempts": 3,
            "msg": f"timeout waiting for {params['host']}:{params['port']} to start listening",
        }
    return "win_wait_for", {"changed": False, "elapsed": 0.1, "wait_attempts": 1}


if __name__ == "__main__":
    run("win_wait_for", SPEC, handle)
