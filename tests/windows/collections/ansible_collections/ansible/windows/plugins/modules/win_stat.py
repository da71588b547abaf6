# Contract-test stand-in for ansible.windows.win_stat. See module_utils/fakewin.py.
from __future__ import annotations

from pathlib import Path

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import run, sha256

SPEC = {
    "path": {"type": "path", "required": True, "aliases": ["dest", "name"]},
    "get_checksum": {"type": "bool", "default": True},
    "checksum_algorithm": {"type": "str", "default": "sha1", "choices": ["md5", "sha1", "sha256", "sha384", "sha512"]},
    "follow": {"type": "bool", "default": False},
    "get_size": {"type": "bool", "default": True},
}


def handle(params, state):
    path = params["path"]
    if Path(path).is_file():
        stat = {"exists": True, "isdir": False, "size": Path(path).stat().st_size, "path": path}
        if params["get_checksum"]:
            assert params["checksum_algorithm"] == "sha256", "ccops compares sha256 checksums"
            stat["checksum"] = sha256(path)
        return "win_stat", {"changed": False, "stat": stat}
    exists = (
        path in state["paths"]
        or path in state.get("program_files", [])
        or path == (state.get("deepfreeze") or {}).get("dfc")
    )
    return "win_stat", {"changed": False, "stat": {"exists": exists, "isdir": path in state["paths"]}}


if __name__ == "__main__":
    run("win_stat", SPEC, handle)
