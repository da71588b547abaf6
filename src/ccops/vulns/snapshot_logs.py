"""The changelogs a content snapshot holds: per package its source, version and parsed entries.

The snapshot's .deb files stay on the controller, in the tree staged on the site's point
(``content_dir/points/<site>/content/<id>/...``). Each is checked against the sha256 its
manifest recorded, then read (ccops.vulns.deb) once: the parsed result is kept by that
sha256 in the inventory's content folder, so a second ``ccops vulns`` reads no package.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccops.checksums import sha256_file
from ccops.paths import private_dir
from ccops.vulns.changelog import ChangelogDamaged, Entry, parse
from ccops.vulns.deb import DebDamaged, read_deb

_DIFFERS = "package file differs from the snapshot's manifest"
_UNREADABLE = "package file unreadable"
_NOT_KEPT = (_DIFFERS, _UNREADABLE)


@dataclass
class PackageLog:
    package: str
    version: str
    source: str
    entries: list[Entry] | None  # None: the package carries no changelog of its own
    damaged: str = ""


@dataclass
class SnapshotLogs:
    packages: dict[str, PackageLog] = field(default_factory=dict)  # binary package -> its log
    by_source: dict[str, list[Entry]] = field(default_factory=dict)  # source -> a sibling's changelog
    paths: dict[str, str] = field(default_factory=dict)  # binary package -> its file's path under the point

    def log_of(self, package: str) -> tuple[list[Entry] | None, str]:
        """The entries for ``package`` (its own changelog, else its source's), or None and why not."""
        log = self.packages.get(package)
        if log is None:
            return None, "no package file in the snapshot"
        if log.damaged:
            return None, log.damaged
        if log.entries is not None:
            return log.entries, ""
        entries = self.by_source.get(log.source)
        return (entries, "") if entries is not None else (None, "no changelog in the package or its source's")


def snapshot_logs(content: Path, manifest: dict[str, Any]) -> SnapshotLogs:
    tree = content / "points" / str(manifest.get("site"))
    cache = private_dir(content / "vulns" / "changelogs")
    out = SnapshotLogs()
    for release in (manifest.get("releases") or {}).values():
        for rel, sha in sorted((release.get("files") or {}).items()):
            if rel.endswith(".deb"):
                log = _cached(cache, tree / rel, str(sha))
                out.packages.setdefault(log.package or Path(rel).name, log)
                out.paths.setdefault(log.package or Path(rel).name, rel)
    for log in out.packages.values():
        if log.entries is not None and not log.damaged:
            out.by_source.setdefault(log.source, log.entries)
    return out


def _cached(cache: Path, deb: Path, sha: str) -> PackageLog:
    kept = cache / f"{sha}.json" if sha.isalnum() else None
    if kept is not None:
        log = _read_kept(kept)
        if log is not None:
            return log
    log = _read(deb, sha)
    if kept is not None and not log.damaged.startswith(_NOT_KEPT):  # a file put right later is read again
        tmp = kept.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(_as_dict(log), handle)
        tmp.replace(kept)
    return log


def _read(deb: Path, sha: str) -> PackageLog:
    name = deb.name.split("_", 1)[0]
    try:
        if sha256_file(deb) != sha:
            return PackageLog(name, "", name, None, _DIFFERS)
        info = read_deb(deb)
    except OSError as exc:
        return PackageLog(name, "", name, None, f"{_UNREADABLE}: {exc.strerror}")
    except DebDamaged as exc:
        return PackageLog(name, "", name, None, f"package file damaged: {exc}")
    if info.changelog is None:
        return PackageLog(info.package, info.version, info.source, None)
    try:
        return PackageLog(info.package, info.version, info.source, parse(info.changelog))
    except ChangelogDamaged as exc:
        return PackageLog(info.package, info.version, info.source, None, f"changelog damaged: {exc}")


def _as_dict(log: PackageLog) -> dict[str, Any]:
    entries = None if log.entries is None else [[e.source, e.version, e.urgency, list(e.cves)] for e in log.entries]
    return {
        "package": log.package,
        "version": log.version,
        "source": log.source,
        "entries": entries,
        "damaged": log.damaged,
    }


def _read_kept(path: Path) -> PackageLog | None:
    """A kept result (written by this module); anything unexpected reads as not kept."""
    try:
        data = json.loads(path.read_text())
        entries = data["entries"]
        return PackageLog(
            str(data["package"]),
            str(data["version"]),
            str(data["source"]),
            None if entries is None else [Entry(str(s), str(v), str(u), tuple(map(str, c))) for s, v, u, c in entries],
            str(data["damaged"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
