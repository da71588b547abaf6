"""The Debian security tracker's JSON export, imported from a file (``ccops vulns import FILE``).

Its shape: ``{source: {CVE id: {"releases": {codename: {"status": ..., "fixed_version": ...,
"urgency": ...}}, ...}}}``. Only what classification needs is kept, per CVE and release:
status, fixed version ("0": the release was never affected) and urgency. Ids that are
not CVEs (TEMP-...) are left out; an entry that does not fit the shape is counted and
left out, never guessed at. The kept copy lives in the inventory's content folder, one
per site (0600). Not yet: staging the export on the site's point with a signature, as a
snapshot is.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccops.checksums import sha256_file
from ccops.content.selection import PACKAGE_NAME
from ccops.errors import CcopsError
from ccops.report.reverted import BadVersion, compare
from ccops.vulns.changelog import CVE_ID

MAX_EXPORT_BYTES = 1 << 30
STATUSES = ("resolved", "open", "undetermined")
URGENCIES = ("unimportant", "low", "medium", "high", "not yet assigned", "end-of-life")
RELEASE = re.compile(r"[a-z]{2,32}")
NOT_AFFECTED = "0"

# source -> CVE -> release -> (status, fixed version or "", urgency)
Tracker = dict[str, dict[str, dict[str, tuple[str, str, str]]]]


@dataclass
class Imported:
    data: Tracker
    kept: int
    skipped: int


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_export(path: Path) -> Imported:
    """The export at ``path``; CcopsError naming the file (and line) when it is not the tracker's JSON."""
    try:
        if path.stat().st_size > MAX_EXPORT_BYTES:
            raise CcopsError(f"{path}: larger than {MAX_EXPORT_BYTES >> 20} MiB: not the tracker's export")
        with path.open("rb") as handle:
            raw = json.load(handle, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise CcopsError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise CcopsError(f"{path}: not readable as the tracker's JSON export: {str(exc)[:200]}") from None
    if not isinstance(raw, dict):
        raise CcopsError(f"{path}: the tracker's export is an object of source packages, not {type(raw).__name__}")
    out: Tracker = {}
    kept = skipped = 0
    for source, cves in raw.items():
        if not PACKAGE_NAME.fullmatch(source) or not isinstance(cves, dict):
            skipped += 1
            continue
        for cve, entry in cves.items():
            if not CVE_ID.fullmatch(cve):
                continue  # TEMP- and other tracker ids name no CVE
            releases = _releases(entry)
            if releases is None:
                skipped += 1
                continue
            if releases:
                out.setdefault(source, {})[cve] = releases
                kept += 1
    return Imported(out, kept, skipped)


def _releases(entry: Any) -> dict[str, tuple[str, str, str]] | None:
    """An entry's releases, or None when one of them does not fit the shape."""
    releases = entry.get("releases") if isinstance(entry, dict) else None
    if not isinstance(releases, dict):
        return None
    out = {}
    for release, value in releases.items():
        if not RELEASE.fullmatch(release) or not isinstance(value, dict):
            return None
        status, fixed, urgency = value.get("status"), value.get("fixed_version", ""), value.get("urgency", "")
        if status not in STATUSES or not isinstance(fixed, str) or not isinstance(urgency, str):
            return None
        if fixed and fixed != NOT_AFFECTED:
            try:
                compare(fixed, fixed)
            except BadVersion:
                return None
        out[release] = (status, fixed, _urgency(urgency))
    return out


def _urgency(text: str) -> str:
    word = text.strip().rstrip("*").strip().lower()  # "high**": the tracker's mark for a guessed urgency
    return word if word in URGENCIES else "unknown"


def _folder(content: Path) -> Path:
    from ccops.paths import private_dir

    return private_dir(content / "vulns")


def save(content: Path, site: str, source: Path, imported: Imported) -> Path:
    path = _folder(content) / f"tracker-{site}.json"
    document = {
        "imported": datetime.now(UTC).isoformat(timespec="seconds"),
        "file": source.name,
        "sha256": sha256_file(source),
        "data": imported.data,
    }
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle, separators=(",", ":"))
    tmp.replace(path)
    return path


def load(content: Path, site: str) -> tuple[Tracker, str | None]:
    """The site's imported export and when it was imported; empty when none was (or it is unreadable)."""
    path = content / "vulns" / f"tracker-{site}.json"
    try:
        document = json.loads(path.read_text())
        data = document["data"]
        imported = str(document["imported"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}, None
    if not isinstance(data, dict):
        return {}, None
    out: Tracker = {}
    for source, cves in data.items():
        if isinstance(cves, dict):
            out[source] = {cve: _kept_releases(rels) for cve, rels in cves.items() if isinstance(rels, dict)}
    return out, imported


def _kept_releases(releases: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {r: (str(v[0]), str(v[1]), str(v[2])) for r, v in releases.items() if isinstance(v, list) and len(v) == 3}
