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


def _tree_stat(path, node):
    """A folder, junction or link of the seat's tree (see win_find): links reported, never followed."""
    junction, link = node.get("junction"), node.get("link")
    stat = {"exists": True, "isdir": bool(node.get("dir") or junction), "islnk": bool(link)}
    stat["isjunction"] = bool(junction)
    if junction or link:
        stat.update(lnk_source=junction or link, lnk_target=junction or link)
    return {**stat, "isreg": not stat["isdir"], "path": path}


def handle(params, state):
    path = params["path"]
    node = (state.get("tree") or {}).get(path)
    if node is not None:
        return "win_stat", {"changed": False, "stat": _tree_stat(path, node)}
    if path in (state.get("acls") or {}):  # a folder the lock script made or locked
        return "win_stat", {"changed": False, "stat": _tree_stat(path, {"dir": True})}
    if Path(path).is_file():
        stat = {"exists": True, "isdir": False, "islnk": False, "isjunction": False, "size": Path(path).stat().st_size}
        stat["path"] = path
        if params["get_checksum"]:
            assert params["checksum_algorithm"] == "sha256", "ccops compares sha256 checksums"
            stat["checksum"] = sha256(path)
        return "win_stat", {"changed": False, "stat": stat}
    exists = (
        path in state["paths"]
        or path in state.get("program_files", [])
        or path == (state.get("deepfreeze") or {}).get("dfc")
    )
    stat = {"exists": exists}
    if exists:  # the real module returns the rest only for a path that exists
        stat.update(isdir=path in state["paths"], islnk=False, isjunction=False, path=path)
    return "win_stat", {"changed": False, "stat": stat}


if __name__ == "__main__":
    run("win_stat", SPEC, handle)
