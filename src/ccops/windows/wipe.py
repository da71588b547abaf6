"""The Windows decommission wipe, decided on the controller: which files are overwritten,
which links are only removed, which folders emptied, and which volumes get ``cipher /w``.

The seat lists the declared data paths with ansible.windows.win_find (``follow: false``:
a junction or symbolic link is reported, never entered) and then performs one named
action on the lists decided here. Nothing outside a declared path is ever written: a link
is removed without following it, and a file hard-linked from outside the declared paths is
unlinked, not overwritten (overwriting would zero the other name's data too). ``cipher /w``
clears a volume's free space once per volume, not once per path. The filter plugin
roles/decommission/filter_plugins/ccops_win_decommission.py exposes these functions.
"""

from __future__ import annotations

import re
from typing import Any

from ccops.windows.facts import DamagedFacts, boolean, items, text

METHOD = "NIST SP 800-88 Rev. 1 Clear: overwrite with zeros, read back, remove; cipher /w once per volume"
DRIVE = re.compile(r"([A-Za-z]):\\")


def inside(path: str, root: str) -> bool:
    path, root = path.lower(), root.lower().rstrip("\\")
    return path == root or path.startswith(root + "\\")


def owner(path: str, roots: list[str]) -> str | None:
    return next((root for root in roots if inside(path, root)), None)


def wipe_plan(paths: list[str], found: Any) -> dict[str, Any]:
    """What the wipe action does, from win_find's result over ``paths``."""
    volumes: list[str] = []
    for path in paths:
        drive = DRIVE.match(path)
        if drive is None:
            raise DamagedFacts(f"{path}: not a path on a local volume (X:\\...): refused")
        volume = drive.group(1).upper() + ":\\"
        if volume not in volumes:
            volumes.append(volume)
    plan: dict[str, Any] = {"files": [], "links": [], "folders": [], "volumes": volumes, "unlinked_only": []}
    per_path = {path: {"files": 0, "bytes": 0} for path in paths}
    for entry in items(found, "files"):
        where = text(entry, "path")
        root = owner(where, paths)
        if root is None:
            raise DamagedFacts(f"win_find reported {where[:80]!r}, outside every declared path")
        if entry.get("islnk") or entry.get("isjunction"):
            plan["links"].append(where)
        elif boolean(entry, "isdir"):
            plan["folders"].append(where)
        elif any(owner(str(other), paths) is None for other in entry.get("hlnk_targets") or []):
            plan["links"].append(where)
            plan["unlinked_only"].append(where)
        else:
            size = entry.get("size")
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise DamagedFacts(f"{where[:80]!r}: size {size!r:.20} is not a byte count")
            plan["files"].append(where)
            per_path[root]["files"] += 1
            per_path[root]["bytes"] += size
    plan["folders"].sort(key=lambda p: (-p.count("\\"), p))  # deepest first: each is empty when removed
    plan["per_path"] = per_path
    return plan


def wipe_results(
    paths: list[str], plan: dict[str, Any], action: Any, cipher: Any, resumed: bool = False
) -> list[dict[str, Any]]:
    """One result per declared path, for the certificate: passed only when every file read back as
    zeros, nothing is left and its volume's free space was cleared (on a resume, which only checks
    that nothing is left, the first attempt's cipher /w stands)."""
    if not isinstance(action, dict):
        raise DamagedFacts("the wipe action's result is not a JSON object")
    failures = items(action, "failed")
    left: dict[str, Any] = action["left"] if isinstance(action.get("left"), dict) else {}
    refused = [str(p) for p in action.get("refused") or []]
    cleared = {text(r, "item").upper(): r.get("rc") == 0 for r in items(cipher, "results")}
    out = []
    for path in paths:
        problems = [f"{text(f, 'file')}: {text(f, 'reason')}" for f in failures if inside(text(f, "file"), path)]
        if path in refused:
            problems.append("refused: the path itself is a link or junction")
        remaining = left.get(path, 0)
        if not isinstance(remaining, int) or remaining:
            problems.append(f"{remaining} item(s) left")
        volume = path[:3].upper()
        if not resumed and not cleared.get(volume, False):
            problems.append(f"cipher /w on {volume} did not finish")
        unlinked = [u for u in plan["unlinked_only"] if inside(u, path)]
        counts = plan["per_path"][path]
        out.append(
            {
                "path": path,
                "method": METHOD,
                "files": counts["files"],
                "bytes": counts["bytes"],
                "result": "failed" if problems else "passed",
                "verification": "; ".join(problems)
                or "read back as zeros before removal; 0 item(s) left; free space cleared"
                + (
                    f"; {len(unlinked)} hard link(s) to data outside the path removed, not overwritten"
                    if unlinked
                    else ""
                ),
            }
        )
    return out
