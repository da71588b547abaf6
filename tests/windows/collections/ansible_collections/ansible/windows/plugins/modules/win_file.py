# Contract-test stand-in for ansible.windows.win_file. See module_utils/fakewin.py.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import remove_tree, run

SPEC = {
    "path": {"type": "path", "required": True, "aliases": ["dest", "name"]},
    "state": {"type": "str", "choices": ["absent", "directory", "file", "touch"]},
}


def _remove_nodes(path, state):
    """The real module deletes a link or junction as itself (its reparse point branch), and a folder
    by deleting each child that way first: a link's target is never entered. Targets are nodes of
    their own path in the tree, so what goes is the path and what is named under it."""
    root = path.lower().rstrip("\\")
    gone = False
    for nodes in (state.get("tree") or {}, state.get("acls") or {}):  # acls: folders the lock script made
        for name in [p for p in nodes if p.lower() == root or p.lower().startswith(root + "\\")]:
            del nodes[name]
            gone = True
    return gone


def handle(params, state):
    if params["state"] == "absent":
        return "win_file.absent", {"changed": remove_tree(params["path"]) | _remove_nodes(params["path"], state)}
    return "win_file." + (params["state"] or "file"), {"changed": False}


if __name__ == "__main__":
    run("win_file", SPEC, handle)
