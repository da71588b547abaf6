"""What a Windows restore removes before it puts the declared paths back, decided on the controller.

Windows PowerShell 5.1's ``Remove-Item -Recurse`` enters a junction below the path and deletes
what is in its target (another user's documents, a data drive). So the seat only reports: win_stat
on each declared path, then win_find (``follow: false``, hidden entries too) below each one that is
a plain folder. Here each link or junction found becomes a removal of that link alone (deepest
first), then each declared path one removal; the seat performs them one named action each
(ansible.windows.win_file ``state: absent``, which deletes a reparse point as itself). Once the
links are gone nothing under a declared path leads elsewhere. A listed entry outside the declared
paths refuses the restore: nothing outside the restore's roots is ever touched.
"""

from __future__ import annotations

from typing import Any

from ccops.windows.facts import DamagedFacts, boolean, items, text
from ccops.windows.wipe import DRIVE, owner


def _stat(result: Any, path: str) -> dict[str, Any]:
    stat = result.get("stat") if isinstance(result, dict) else None
    if not isinstance(stat, dict):
        raise DamagedFacts(f"{path[:80]!r}: win_stat reported nothing")
    return stat


def _is_link(entry: dict[str, Any]) -> bool:
    return bool(entry.get("islnk")) or bool(entry.get("isjunction"))


def folders_to_list(paths: list[str], stats: Any) -> list[str]:
    """The declared paths that are plain folders: only these are listed (win_find through a junction
    given as its path would list the junction's target)."""
    results = items(stats, "results")
    if len(results) != len(paths):
        raise DamagedFacts("win_stat did not report every declared path")
    for path in paths:
        if DRIVE.fullmatch(path[:3]) is None or len(path.rstrip("\\")) <= 2:
            raise DamagedFacts(f"{path[:80]!r}: not a path below a local drive (X:\\...): refused")
    folders = []
    for path, result in zip(paths, results, strict=True):
        stat = _stat(result, path)
        if boolean(stat, "exists") and not _is_link(stat) and boolean(stat, "isdir"):
            folders.append(path)
    return folders


def removal_plan(paths: list[str], stats: Any, found: Any) -> list[dict[str, str]]:
    """The removals, in order: every link below a declared folder (as a link, deepest first), then
    each declared path that exists (a link as a link, a folder or a file as itself)."""
    folders = folders_to_list(paths, stats)
    links = []
    for entry in items(found, "files"):
        where = text(entry, "path")
        if owner(where, folders) is None:
            raise DamagedFacts(f"win_find reported {where[:80]!r}, outside every declared path")
        if _is_link(entry):
            links.append(where)
    links.sort(key=lambda p: (-p.count("\\"), p))
    plan = [{"path": link, "kind": "link"} for link in links]
    for path, result in zip(paths, items(stats, "results"), strict=True):
        stat = _stat(result, path)
        if not boolean(stat, "exists"):
            continue
        kind = "link" if _is_link(stat) else ("folder" if path in folders else "file")
        plan.append({"path": path, "kind": kind})
    return plan
