"""The folders ccops keeps backups in on a Windows seat, decided on the controller.

``C:\\ProgramData`` lets every user create folders and files, and what they create there
inherits that: a backup folder made with ``New-Item`` is readable by Users, and a folder a
user made first (or a junction standing in its place) is theirs. So each folder ccops owns
on the way to a backup's folder (every level below the first: ``C:\\ProgramData\\ccops``,
``...\\backups``, ``...\\backups\\ID``) is checked with win_stat, then locked by one named
action (roles/backup/files/lock_folder.ps1): owner Administrators, inheritance cut, access for
SYSTEM and Administrators only. The seat reads the result back as SDDL, checked here.

Decisions: a link or junction on that way is refused (locking or writing through it would act
on what it points to). An existing ccops folder with a wider ACL is re-locked, not refused:
only ccops writes there, the lock replaces the whole ACL and the owner, so nothing another
account added survives it, and refusing would stop every backup for a state ccops can repair.
The backup's own folder must not exist yet: one that does was not made by this backup (its
name is fresh per attempt), and a file planted in it (a hard link named archive.tar.gz) would
have tar.exe overwrite another file.
"""

from __future__ import annotations

import re
from typing import Any

from ccops.windows.facts import DamagedFacts, boolean

# who may hold access to a locked folder: SYSTEM and the local Administrators group
TRUSTED = {"SY", "BA", "S-1-5-18", "S-1-5-32-544"}
ACE = re.compile(r"\(([^()]*)\)")
PART = re.compile(r"(O|G|D|S):")


def folder_chain(folder: str) -> list[str]:
    """Every folder from the second level down to ``folder`` (the first level, ProgramData, is Windows')."""
    drive, sep, rest = folder.rstrip("\\").partition(":\\")
    parts = [p for p in rest.split("\\") if p]
    if not sep or len(drive) != 1 or not drive.isalpha() or len(parts) < 2 or any(p in (".", "..") for p in parts):
        raise DamagedFacts(f"{folder[:80]!r}: not an absolute folder two levels below a drive (X:\\A\\B)")
    return [f"{drive}:\\" + "\\".join(parts[:depth]) for depth in range(2, len(parts) + 1)]


def chain_problems(chain: list[str], stats: Any) -> list[str]:
    """Why the folders cannot be locked, from win_stat's loop over ``chain`` (nothing: go on)."""
    results = stats.get("results") if isinstance(stats, dict) else None
    if not isinstance(results, list) or len(results) != len(chain):
        return ["win_stat did not report every backup folder"]
    problems = []
    for path, result in zip(chain, results, strict=True):
        stat = result.get("stat") if isinstance(result, dict) else None
        try:
            if not isinstance(stat, dict) or not boolean(stat, "exists"):
                continue
            if stat.get("islnk") or stat.get("isjunction"):
                problems.append(f"{path} is a link or junction: never followed, never locked")
            elif not boolean(stat, "isdir"):
                problems.append(f"{path} is a file, not a folder")
            elif path == chain[-1]:
                problems.append(f"{path} exists already: this backup did not make it")
        except DamagedFacts as exc:
            problems.append(f"{path}: {exc}")
    return problems


def acl_problems(sddl: Any) -> list[str]:
    """Why the SDDL (owner and DACL) a seat read back is not locked to SYSTEM and Administrators."""
    if not isinstance(sddl, str) or not sddl.strip():
        return ["no access control list was read back"]
    marks = list(PART.finditer(sddl))
    ends = [m.start() for m in marks[1:]] + [len(sddl)]
    parts = {m.group(1): sddl[m.end() : end] for m, end in zip(marks, ends, strict=True)}
    problems = []
    if parts.get("O") not in TRUSTED:
        problems.append(f"owner {parts.get('O', 'missing')[:60]!r} is not Administrators or SYSTEM")
    dacl = parts.get("D")
    if dacl is None:
        return [*problems, "no access control list (everyone has access)"]
    flags = dacl.split("(", 1)[0]
    if "P" not in flags:
        problems.append("the folder still inherits its parent's access")
    for ace in ACE.findall(dacl):
        fields = ace.split(";")
        kind, ace_flags, trustee = fields[0], fields[1] if len(fields) > 1 else "", fields[5] if len(fields) > 5 else ""
        if kind in ("D", "OD", "AU", "AL", "OU", "OL"):  # deny and audit entries grant nothing
            continue
        if "ID" in ace_flags:
            problems.append(f"an inherited entry for {trustee[:60]!r} remains")
        elif trustee not in TRUSTED:
            problems.append(f"{trustee[:60]!r} has access")
    return problems
