"""A snapshot's signed apt repository, built on the controller with the software repository's key.

Layout under the point's path (one suite per Debian release, named like the OS variant):
  content/<id>/debian/pool/<release>/<file>.deb
  content/<id>/debian/dists/<release>/main/binary-<arch>/Packages, Release, Release.gpg, InRelease

The software repository's builder (ccops.software.points) indexes Architecture: all
packages only; security updates are mostly architecture-specific, so the index
here is per architecture. Signing goes through the same gpg helper and key.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ccops.checksums import sha256_file
from ccops.content.snapshots import point_prefix
from ccops.software.points import KeyFiles, pool_packages, publish_suite


def build_snapshot_repository(
    tree: Path, snapshot_id: str, debs: dict[str, dict[str, Path]], arches: dict[str, str], keys: KeyFiles
) -> list[tuple[str, str]]:
    """debs: release -> {pool file name: fetched file}; arches: release -> the hosts' dpkg architecture.

    Returns (path under the point, sha256) for every file, .debs first and InRelease last,
    so a point never serves an index naming files that have not arrived."""
    prefix = point_prefix(snapshot_id)
    debian = tree / prefix
    if debian.exists():
        shutil.rmtree(debian)  # a snapshot is built once; a half-built one from a failed attempt goes
    files: list[tuple[str, str]] = []
    indexes: list[str] = []
    for release, pool in sorted(debs.items()):
        folder = debian / "pool" / release
        folder.mkdir(parents=True, exist_ok=True)
        for name, source in sorted(pool.items()):
            shutil.copyfile(source, folder / name)
            (folder / name).chmod(0o644)
            files.append((f"{prefix}/pool/{release}/{name}", sha256_file(folder / name)))
        indexes += [f"{prefix}/{rel}" for rel in _index(debian, release, arches[release], keys)]
    for path in [debian, *debian.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)
    return files + [(rel, sha256_file(tree / rel)) for rel in indexes]


def _index(debian: Path, release: str, arch: str, keys: KeyFiles) -> list[str]:
    packages = pool_packages(debian, release)
    publish_suite(debian, keys, release, arch, packages, "ccops approved content", arch)
    return [
        f"dists/{release}/main/binary-{arch}/Packages",
        f"dists/{release}/Release",
        f"dists/{release}/Release.gpg",
        f"dists/{release}/InRelease",
    ]
