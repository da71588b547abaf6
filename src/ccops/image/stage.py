"""Staging a built image on a site's distribution point, and finding it there.

The point's folder gets images/NAME/VERSION/ with every artefact of the
build, each checked against the build's manifest on arrival; a file already
there intact is not sent again, one that is not is replaced. Deployment serves
what is staged and never re-stages: the imager's checksum is what stands
between a damaged copy and a machine.

A point on another host (site.distribution_point.host, a host of the
inventory) gets the same images/NAME/VERSION/ folder through the software
distribution's staging (the software-stage verb, roles/distribution_point):
only what it does not hold intact is sent, every file is checked by sha256 on
arrival and one that does not match is removed and reported. Before anything
leaves this machine, the build's files are checked against its manifest.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccops.checksums import sha256_file
from ccops.errors import EXIT_HOSTS_FAILED, CcopsError
from ccops.image.build import MANIFEST, Build
from ccops.inventory.model import Inventory, Site
from ccops.paths import private_dir, state_dir

LOCAL_POINT_HOSTS = ("localhost", "127.0.0.1")


def is_remote(site: Site) -> bool:
    """A point on another host of the inventory, staged over SSH (the software distribution's staging)."""
    return site.distribution_point.get("host", "localhost") not in LOCAL_POINT_HOSTS


def point_root(site: Site) -> Path:
    point = site.distribution_point
    if not point.get("path"):
        raise CcopsError(f"{site.file}: site {site.code} declares no distribution_point.path")
    if point.get("host", "localhost") not in LOCAL_POINT_HOSTS:
        raise CcopsError(
            f"site {site.code}: its distribution point is on {point.get('host')}; ccops deploys only from "
            "a point on this machine for now (ccops image stage places an image on that host's point)"
        )
    return Path(point["path"])


def staged_folder(site: Site, name: str, version: str) -> Path:
    return point_root(site) / "images" / name / version


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


@dataclass
class RemoteStage:
    """One image staged on one site's point on another host: the run, and what the point did."""

    site: str
    point: str
    folder: str  # images/NAME/VERSION under the point's path
    run: Any = None  # RunResult
    sent: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    outcome: str = "not run"

    @property
    def exit_code(self) -> int:
        code: int = self.run.exit_code if self.run is not None else EXIT_HOSTS_FAILED
        return EXIT_HOSTS_FAILED if code == 0 and (self.refused or self.outcome != "ok") else code


def remote_files(build: Build) -> list[tuple[str, str]]:
    """(path under the point, sha256) of every file of the build, the manifest last: a point that
    names a version in a manifest holds its artefacts. Refused if a file is not what the manifest says."""
    manifest = build.manifest
    folder = f"images/{manifest['name']}/{manifest['version']}"
    files = []
    for name, meta in sorted(manifest["artefacts"].items()):
        if sha256_file(build.folder / name) != meta["sha256"]:
            raise CcopsError(f"{build.folder / name}: does not match its build manifest; rebuild the image")
        files.append((f"{folder}/{name}", str(meta["sha256"])))
    return [*files, (f"{folder}/{MANIFEST}", sha256_file(build.folder / MANIFEST))]


def outbox(build: Build) -> Path:
    """A folder on this machine laid out as the point is (images/NAME/VERSION -> the build folder)."""
    manifest = build.manifest
    root = private_dir(state_dir() / "image-outbox") / f"{manifest['name']}-{manifest['version']}"
    link = root / "images" / str(manifest["name"]) / str(manifest["version"])
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.resolve() != build.folder.resolve():
        link.unlink()
    if not link.is_symlink():
        link.symlink_to(build.folder.resolve(), target_is_directory=True)
    return root


def stage_remote(
    inventory: Inventory, code: str, build: Build, change_id: str | None, progress: Any = None, engine: Any = None
) -> RemoteStage:
    """The build onto site ``code``'s point on another host, through one software-stage run."""
    from ccops.inventory.select import Selector
    from ccops.run import RunRequest, run_verb

    site = inventory.sites[code]
    host = str(site.distribution_point.get("host") or "")
    if host not in inventory.hosts or not site.distribution_point.get("path"):
        raise CcopsError(
            f"{site.file}: site {code} needs distribution_point.host (a host of the inventory) and .path to stage"
        )
    files = remote_files(build)
    stage = RemoteStage(code, host, files[0][0].rsplit("/", 1)[0])
    request = RunRequest(
        inventory.root,
        "software-stage",
        Selector(limit=(host,)),
        change_id=change_id,
        options={"distribution_point_stage": {code: {"source": str(outbox(build)), "files": [list(f) for f in files]}}},
    )
    stage.run = run_verb(request, progress, engine)
    report = stage.run.reports.get(host) or {}
    outcome = next((o for o in stage.run.hosts if o.host == host), None)
    stage.outcome = outcome.outcome if outcome else "not run"
    stage.sent, stage.kept = list(report.get("sent") or []), list(report.get("kept") or [])
    stage.refused = [f"{rel}: sha256 differs on arrival; removed from the point" for rel in report.get("refused") or []]
    return stage
