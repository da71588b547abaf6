"""Controller-side decisions of a Windows restore (roles/backup/tasks/restore_windows.yml).

The seat only reports facts: the package list kept in the backup archive
(ccops/packages.json, written by backup_windows.yml) and Get-WindowsPackage's
list now, both raw JSON. Which packages go, and what each DISM exit code
means, is decided here, where unit tests see it (tests/unit/test_windows_packages.py).

win_restore_plan(before_json, now_json) -> {refused, remove, keep}
    refused: why nothing may be removed ("" when the plan can be acted on);
    remove: package identities present now (installed or install-pending) and absent before;
    keep: [{name, reason}] new packages Windows cannot remove (servicing stack).
win_removal_outcome(results) -> {removed, not_removed, failed, reboot_required}
    from the registered results of one win_command (dism /Remove-Package) per package.
win_still_present(removed, now_json) -> the removed packages the seat still lists.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A DISM package identity: name~public key token~architecture~language~version.
# Nothing else is ever passed to dism: a name that does not fit refuses the whole plan.
IDENTITY = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,254}~[0-9A-Fa-f]{16}~[A-Za-z0-9]{0,16}~[A-Za-z0-9\-]{0,32}~[0-9]{1,10}(\.[0-9]{1,10}){1,3}"
)
# Get-WindowsPackage PackageState values that mean "on this seat" (InstallPending:
# installed without the reboot it needs, as after --reboot never).
PRESENT_STATES = {"installed", "installpending"}
# PackageState as Windows PowerShell 5.1 serialises the enum (an integer) without [string]
_STATE_NUMBERS = {"7": "installed", "6": "installpending", "5": "superseded", "4": "staged"}
SERVICING_STACK = "package_for_servicingstack"
EXIT_REBOOT = 3010
EXIT_PERMANENT = (-2146498523, 2148468773)  # 0x800f0825 CBS_E_PERMANENT, signed and unsigned


class PackageListError(ValueError):
    """A package list that is not what the gathering script writes."""


def _parse(raw: Any, what: str) -> list[Any]:
    if isinstance(raw, str):
        text = raw.lstrip("\ufeff").strip()  # Set-Content may leave a byte order mark
        if not text:
            raise PackageListError(f"{what} is empty")
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise PackageListError(f"{what} is not JSON ({exc.msg})") from None
    if not isinstance(raw, list):
        raise PackageListError(f"{what} is not a list of packages")
    return raw


def _state(entry: dict[str, Any]) -> str:
    state = entry.get("PackageState", "Installed")  # the backup's list holds installed packages only
    if isinstance(state, bool) or not isinstance(state, (str, int)):
        raise PackageListError(f"package {entry.get('PackageName')!r} has no readable state")
    text = str(state).strip().lower()
    return _STATE_NUMBERS.get(text, text)


def package_identities(raw: Any, what: str) -> set[str]:
    """The identities of the packages on the seat (installed or pending) in one gathered list.
    Raises PackageListError on anything that is not a list of package records."""
    out = set()
    for i, entry in enumerate(_parse(raw, what)):
        if not isinstance(entry, dict):
            raise PackageListError(f"{what}: entry {i} is not a package record")
        name = entry.get("PackageName")
        if not isinstance(name, str) or not IDENTITY.fullmatch(name):
            raise PackageListError(f"{what}: entry {i} has no package identity ({str(name)[:80]!r})")
        if _state(entry) in PRESENT_STATES:
            out.add(name)
    return out


def win_restore_plan(before_json: Any, now_json: Any) -> dict[str, Any]:
    try:
        before = package_identities(before_json, "the backup's package list")
        now = package_identities(now_json, "the seat's package list")
    except PackageListError as exc:
        return {"refused": f"{exc}: no package removed", "remove": [], "keep": []}
    if not before:
        return {"refused": "the backup's package list names no package: no package removed", "remove": [], "keep": []}
    if not now & before:
        return {
            "refused": "the seat shares no package with the backup's list (another machine's list?): no package removed",
            "remove": [],
            "keep": [],
        }
    new = sorted(now - before)
    keep = [
        {"name": n, "reason": "servicing stack update: Windows cannot remove it"}
        for n in new
        if n.lower().startswith(SERVICING_STACK)
    ]
    kept = {k["name"] for k in keep}
    return {"refused": "", "remove": [n for n in new if n not in kept], "keep": keep}


def win_removal_outcome(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One registered win_command result per package (loop item: the identity)."""
    out: dict[str, Any] = {"removed": [], "not_removed": [], "failed": [], "reboot_required": False}
    for res in results:
        name = res.get("item", "")
        rc = res.get("rc")
        if rc == 0 or rc == EXIT_REBOOT:
            out["removed"].append(name)
            out["reboot_required"] = out["reboot_required"] or rc == EXIT_REBOOT
        elif rc in EXIT_PERMANENT:
            out["not_removed"].append(
                {"name": name, "reason": "permanent package (0x800f0825): Windows cannot remove it"}
            )
        else:
            # rc missing: the module never ran dism (a launch failure without a code)
            why = str(res.get("msg") or "").strip()
            out["failed"].append(
                {"name": name, "reason": f"DISM exit {rc}: {why}"[:300] if rc is not None else why[:300]}
            )
    return out


def win_still_present(removed: list[str], now_json: Any) -> list[str]:
    """Removed packages the seat still lists; an unreadable list counts every one as still there."""
    try:
        now = package_identities(now_json, "the seat's package list")
    except PackageListError:
        return list(removed)
    return [n for n in removed if n in now]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "win_restore_plan": win_restore_plan,
            "win_removal_outcome": win_removal_outcome,
            "win_still_present": win_still_present,
        }
