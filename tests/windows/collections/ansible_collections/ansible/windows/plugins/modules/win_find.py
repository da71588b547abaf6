# Contract-test stand-in for ansible.windows.win_find (options from win_find.ps1). The seat's
# folders are the model's "tree": {path: {size} | {dir: true} | {junction: target} |
# {link: target} | {size, hardlinks: [other names]}}. As the real module does with
# follow: false, a junction or link is listed (isjunction / islnk) but never entered.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "paths": {"type": "list", "elements": "str", "required": True},
    "age": {"type": "str"},
    "age_stamp": {"type": "str", "default": "mtime", "choices": ["mtime", "ctime", "atime"]},
    "file_type": {"type": "str", "default": "file", "choices": ["file", "directory", "any"]},
    "follow": {"type": "bool", "default": False},
    "hidden": {"type": "bool", "default": False},
    "patterns": {"type": "list", "elements": "str", "aliases": ["regex", "regexp"]},
    "recurse": {"type": "bool", "default": False},
    "size": {"type": "str"},
    "use_regex": {"type": "bool", "default": False},
    "get_checksum": {"type": "bool", "default": True},
    "checksum_algorithm": {"type": "str", "default": "sha1", "choices": ["md5", "sha1", "sha256", "sha384", "sha512"]},
    "depth": {"type": "int"},
    "case_sensitive": {"type": "bool", "default": False},
}


def _under(path, root):
    return path.lower().startswith(root.lower().rstrip("\\") + "\\")


def _entry(path, node):
    isdir = bool(node.get("dir") or "junction" in node)
    return {
        "path": path,
        "filename": path.rsplit("\\", 1)[-1],
        "isdir": isdir,
        "isreg": not isdir,
        "islnk": "link" in node,
        "isjunction": "junction" in node,
        "lnk_target": node.get("junction") or node.get("link"),
        "hlnk_targets": node.get("hardlinks", []),
        "size": None if isdir else node.get("size", 0),
        "exists": True,
    }


def _through(tree, root):
    """A declared path that is itself a junction: DirectoryInfo enumerates its target's entries,
    named under the junction (win_find checks links below the path it was given, not the path)."""
    target = tree.get(root, {}).get("junction")
    if not target:
        return tree
    view = dict(tree)
    for path, node in tree.items():
        if _under(path, target):
            view[root + path[len(target) :]] = node
    return view


def handle(params, state):
    files = []
    for root in params["paths"]:
        tree = _through(state.get("tree", {}), root)
        links = [p for p, n in tree.items() if _under(p, root) and ("junction" in n or "link" in n)]
        for path, node in tree.items():
            if not _under(path, root) or (not params["follow"] and any(_under(path, link) for link in links)):
                continue
            entry = _entry(path, node)
            kind = "directory" if entry["isdir"] else "file"
            if params["file_type"] in ("any", kind):
                files.append(entry)
    files.sort(key=lambda e: e["path"])
    return "win_find", {"changed": False, "files": files, "examined": len(files), "matched": len(files)}


if __name__ == "__main__":
    run_checked("win_find", SPEC, handle)
