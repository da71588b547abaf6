"""Staging a built image on a site's distribution point, and finding it there.

The point's folder gets images/NAME/VERSION/ with every artefact of the
build, each checked against the build's manifest on arrival; a file already
there intact is not sent again, one that is not is replaced. Deployment serves
what is staged and never re-stages: the imager's checksum is what stands
between a damaged copy and a machine.

Staging to a point on another host belongs to the software distribution's
staging (ccops software stage); `send_to_point` is the one place to hand it over.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from ccops.errors import CcopsError
from ccops.image.build import MANIFEST, Build
from ccops.inventory.model import Site

LOCAL_POINT_HOSTS = ("localhost", "127.0.0.1")


def point_root(site: Site) -> Path:
    point = site.distribution_point
    if not point.get("path"):
        raise CcopsError(f"{site.file}: site {site.code} declares no distribution_point.path")
    if point.get("host", "localhost") not in LOCAL_POINT_HOSTS:
        raise CcopsError(
            f"site {site.code}: its distribution point is on {point.get('host')}; ccops stages and serves "
            "images only on a point on this machine for now (remote points: ccops software stage)"
        )
    return Path(point["path"])


def staged_folder(site: Site, name: str, version: str) -> Path:
    return point_root(site) / "images" / name / version


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def stage(site: Site, build: Build) -> tuple[Path, list[str]]:
    """Put the build on the site's point; answer the folder and the files sent."""
    manifest = build.manifest
    target = staged_folder(site, manifest["name"], manifest["version"])
    sent = send_to_point(build.folder, target, manifest["artefacts"])
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return target, sent


def send_to_point(source: Path, target: Path, artefacts: dict[str, dict[str, object]]) -> list[str]:
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o755)  # noqa: PTH101, S103 (the point serves it to machines)
    sent = []
    for name, meta in sorted(artefacts.items()):
        want = str(meta["sha256"])
        if sha256_file(source / name) != want:
            raise CcopsError(f"{source / name}: does not match its build manifest; rebuild the image")
        dest = target / name
        if dest.is_file() and dest.stat().st_size == meta["size"] and sha256_file(dest) == want:
            continue
        tmp = dest.with_name(f".{name}.part")
        shutil.copyfile(source / name, tmp)
        if sha256_file(tmp) != want:
            tmp.unlink()
            raise CcopsError(f"{dest}: the copy on the point does not match the manifest; nothing replaced")
        os.chmod(tmp, 0o644)  # noqa: PTH101
        tmp.replace(dest)
        sent.append(name)
    return sent


def check_staged(site: Site, manifest: dict[str, object]) -> Path:
    """The staged folder, if every artefact is there (contents are the imager's to verify)."""
    folder = staged_folder(site, str(manifest["name"]), str(manifest["version"]))
    artefacts = manifest["artefacts"]
    assert isinstance(artefacts, dict)  # noqa: S101 (a manifest ccops wrote)
    missing = [name for name in artefacts if not (folder / name).is_file()]
    if missing:
        raise CcopsError(
            f"{manifest['name']} {manifest['version']} is not staged on site {site.code}'s point "
            f"(missing {', '.join(missing)}): ccops image stage {manifest['name']} --site {site.code}"
        )
    return folder
