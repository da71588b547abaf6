"""A snapshot of just the fixing packages, built from the parent snapshot's own files.

The parent snapshot (the newest holding the fixes) was downloaded and checked against the
release's signed index when it was taken; its .deb files stay in the controller's point tree.
The subset names, per release, every binary the parent holds of the fixing packages' source
packages (binaries of one source upgrade together) and nothing else: apt on the host then
decides what to install from that alone. Each file is checked again against the parent's
recorded sha256 before it is copied; the repository is built and signed by the snapshot code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccops.checksums import sha256_file
from ccops.content.snapshot import new_manifest
from ccops.errors import CcopsError
from ccops.remediate.targets import Target
from ccops.vulns.snapshot_logs import SnapshotLogs

_PACKAGES_INDEX = re.compile(r"content/[^/]+/debian/dists/(?P<release>[^/]+)/main/binary-(?P<arch>[a-z0-9]+)/Packages")


@dataclass
class Subset:
    packages: dict[str, dict[str, str]]  # release -> package -> version
    debs: dict[str, dict[str, Path]]  # release -> pool file name -> the parent's file
    arches: dict[str, str]


def fixing_sources(targets: list[Target], logs: SnapshotLogs) -> set[str]:
    return {(logs.packages[t.package].source if t.package in logs.packages else "") or t.package for t in targets}


def choose_subset(parent: dict[str, Any], logs: SnapshotLogs, targets: list[Target], tree: Path) -> Subset:
    sources = fixing_sources(targets, logs)
    files: dict[str, str] = parent.get("files") or {}
    arches = {m["release"]: m["arch"] for m in (_PACKAGES_INDEX.fullmatch(rel) for rel in files) if m}
    out = Subset({}, {}, {})
    for release, entry in sorted((parent.get("releases") or {}).items()):
        for package, version in sorted((entry.get("packages") or {}).items()):
            log = logs.packages.get(package)
            if log is None or (log.source or package) not in sources:
                continue
            rel = logs.paths[package]
            if sha256_file(tree / rel) != files.get(rel):
                raise CcopsError(f"{rel}: differs from snapshot {parent['id']}'s manifest; no remediation snapshot")
            out.packages.setdefault(release, {})[package] = str(version)
            out.debs.setdefault(release, {})[Path(rel).name] = tree / rel
            if release not in arches:
                raise CcopsError(f"snapshot {parent['id']} has no package index for {release}")
            out.arches[release] = arches[release]
    if not out.packages:
        raise CcopsError(f"snapshot {parent['id']} holds no package of {', '.join(sorted(sources))}")
    return out


def subset_manifest(
    parent: dict[str, Any],
    subset: Subset,
    snapshot_id: str,
    files: list[tuple[str, str]],
    targets: list[Target],
    change_id: str | None,
    by: str,
) -> dict[str, Any]:
    pool = f"content/{snapshot_id}/debian/pool"
    releases = {
        release: {
            "packages": chosen,
            "files": {rel: sha for rel, sha in files if rel.startswith(f"{pool}/{release}/")},
            "left_out": {},
        }
        for release, chosen in sorted(subset.packages.items())
    }
    hosts = {}
    for name, record in sorted((parent.get("hosts") or {}).items()):
        held = subset.packages.get(record.get("release"), {})
        wanted = {p: c for p, c in (record.get("packages") or {}).items() if p in held}
        if wanted:
            hosts[name] = {"release": record["release"], "packages": wanted}
    remediation = {"parent": parent["id"], "cves": sorted({t.cve for t in targets})}
    return new_manifest(snapshot_id, parent["site"], change_id, by, releases, hosts, files, remediate=remediation)
