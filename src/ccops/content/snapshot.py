"""ccops content snapshot: the updates a site's hosts need, as a signed repository on the site's point.

Where the download happens: on the site's own hosts, one per Debian release,
with that host's configured sources and the archive keys its release trusts
(apt checks every file against the release's signed index). The controller
never needs a URL of its own, nor an archive key of every release; no URL is
ever taken from the inventory. The controller then checks every fetched file
against the SHA256 of that signed index, builds and signs the snapshot's
repository with the inventory's key (which never leaves the controller) and
stages it on the site's distribution point through the same verified, resumable
stage as the software catalogue (the software-stage verb).

Two read-only runs before that: content-updates (every active Debian host of
the site reports what `apt-get dist-upgrade` would install) and content-download.
"""

from __future__ import annotations

import shutil
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccops.checksums import sha256_file
from ccops.content.repository import build_snapshot_repository
from ccops.content.selection import HostNeeds, host_needs, parse_simulation, release_packages
from ccops.content.snapshots import content_dir, new_snapshot_id, save
from ccops.errors import EXIT_HOSTS_FAILED, CcopsError, UsageError
from ccops.inventory.load import load_inventory
from ccops.inventory.model import Host, Inventory
from ccops.inventory.select import Selector
from ccops.paths import private_dir
from ccops.run.prepare import refuse_offline
from ccops.runner.progress import Progress
from ccops.software.points import ensure_key


@dataclass
class SnapshotResult:
    manifest: dict[str, Any]
    runs: list[str]  # the run ids of the updates, download and stage runs


def site_hosts(inventory: Inventory, site: str) -> list[Host]:
    return sorted(
        (h for h in inventory.hosts.values() if h.site == site and h.lifecycle == "active" and h.os_family == "debian"),
        key=lambda h: h.name,
    )


def _point(inventory: Inventory, site: str) -> str:
    if site not in inventory.sites:
        raise UsageError(f"unknown site {site!r}; this inventory has: {', '.join(inventory.sites)}")
    point = inventory.sites[site].distribution_point
    if not point.get("host") or not point.get("path") or not point.get("url") or point["host"] not in inventory.hosts:
        raise CcopsError(
            f"{inventory.sites[site].file}: site {site} needs distribution_point.host (a host of the inventory), "
            ".path and .url for approved content"
        )
    return str(point["host"])


def point_host(inventory: Inventory, site: str) -> str:
    """The host of the site's distribution point; one line naming the site file when it has none."""
    return _point(inventory, site)


def _run(inventory_path: Path, verb: str, hosts: list[str], change_id: str | None, options: dict[str, Any],
         progress: Progress | None, engine: Any = None) -> Any:  # fmt: skip
    from ccops.run import RunRequest, run_verb

    result = run_verb(RunRequest(inventory_path, verb, Selector(limit=tuple(hosts)), change_id=change_id,
                                 options=options), progress, engine)  # fmt: skip
    expected = {
        "content-updates": "listed",
        "content-download": "downloaded",
        "content-seed": "seeded",
        "software-stage": "staged",
    }[verb]
    failed = [o.host for o in result.hosts if (result.reports.get(o.host) or {}).get("outcome") != expected]
    failed += [h for h in hosts if h not in {o.host for o in result.hosts}]
    if failed or result.exit_code != 0:
        raise CcopsError(
            f"{verb} run {result.run_id} did not finish on {', '.join(failed) or 'every host'}: no snapshot "
            f"(see: ccops runs show {result.run_id})",
            EXIT_HOSTS_FAILED,
        )
    return result


def take_snapshot(
    inventory_path: Path, site: str, change_id: str | None = None, progress: Progress | None = None
) -> SnapshotResult:
    from ccops.run import operator

    inventory = load_inventory(inventory_path)
    refuse_offline(inventory)
    _point(inventory, site)  # first: a site without a point takes no snapshot
    hosts = site_hosts(inventory, site)
    if not hosts:
        raise UsageError(f"site {site} has no active Debian host to take a snapshot for")
    keys = ensure_key(inventory)  # first: no key, no point in downloading
    listed = _run(inventory_path, "content-updates", [h.name for h in hosts], change_id, {}, progress)
    needs: dict[str, dict[str, HostNeeds]] = {}
    arches: dict[str, str] = {}
    for host in hosts:
        report = listed.reports.get(host.name) or {}
        lines = [str(x) for x in (report.get("inst") or []) + (report.get("prerequisite") or [])]
        needs.setdefault(host.os, {})[host.name] = host_needs(parse_simulation(lines))
        arches[host.os] = _arch(report.get("arch"), host)
    packages = {release: release_packages(per_host) for release, per_host in needs.items()}

    snapshot_id = new_snapshot_id()
    work = content_dir(inventory) / "work" / snapshot_id
    fetched: dict[str, dict[str, Path]] = {release: {} for release in packages}
    wanted = {r: [f"{n}={v}" for n, v in p.items()] for r, p in packages.items() if p}
    runs = [listed.run_id]
    try:
        if wanted:
            downloaders = [next(h.name for h in hosts if h.os == release) for release in wanted]
            done = _run(inventory_path, "content-download", downloaders, change_id,
                        {"content_download": wanted, "content_fetch_dir": str(work)}, progress)  # fmt: skip
            runs.append(done.run_id)
            for release, downloader in zip(wanted, downloaders, strict=True):
                unpack_debs(work / f"{release}.tar", work / release)
                fetched[release] = verify_download(
                    packages[release], str((done.reports.get(downloader) or {}).get("index") or ""), work / release
                )
        tree = content_dir(inventory) / "points" / site
        files = build_snapshot_repository(tree, snapshot_id, fetched, arches, keys)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    manifest = _manifest(snapshot_id, site, change_id, operator(), needs, packages, files)
    return SnapshotResult(manifest, runs + stage_built(inventory_path, inventory, manifest, files, change_id, progress))


def stage_built(inventory_path: Path, inventory: Inventory, manifest: dict[str, Any], files: list[tuple[str, str]],
                change_id: str | None, progress: Progress | None) -> list[str]:  # fmt: skip
    """Save a built snapshot's manifest, seed and stage its files on the site's point, then mark it staged."""
    _point(inventory, manifest["site"])  # first: a site without a point saves no manifest
    save(inventory, manifest)  # not staged yet: nothing can install from it
    runs = stage_on_point(inventory_path, inventory, manifest["site"], manifest["id"], files, change_id, progress)
    manifest |= {"staged": True, "stage_run": runs[-1]}
    save(inventory, manifest)
    return runs


def stage_on_point(inventory_path: Path, inventory: Inventory, site: str, name: str, files: list[tuple[str, str]],
                   change_id: str | None, progress: Progress | None, engine: Any = None) -> list[str]:  # fmt: skip
    """Files built under the site's point tree on the controller, (path under the point, sha256), seeded
    then staged verified on the site's point: the seed and stage run ids. CcopsError when a run fails."""
    point = _point(inventory, site)
    tree = content_dir(inventory) / "points" / site
    seed = content_dir(inventory) / "work" / f"{name}.tar"
    private_dir(seed.parent)
    runs = []
    try:
        pack_snapshot(tree, [rel for rel, _ in files], seed)
        runs.append(_run(inventory_path, "content-seed", [point], change_id,
                         {"content_seed_archive": str(seed)}, progress, engine).run_id)  # fmt: skip
    finally:
        seed.unlink(missing_ok=True)
    stage = {site: {"source": str(tree), "files": [list(f) for f in files]}}
    staged = _run(inventory_path, "software-stage", [point], change_id, {"distribution_point_stage": stage},
                  progress, engine)  # fmt: skip
    return [*runs, staged.run_id]


def _arch(value: object, host: Host) -> str:
    arch = str(value or "")
    if not arch.isalnum():
        raise CcopsError(f"{host.name}: unexpected package architecture {arch[:30]!r}")
    return arch


def pack_snapshot(tree: Path, rels: list[str], archive: Path) -> None:
    """The snapshot's files in one archive, owned by root, world-readable, as the point serves them."""

    def as_served(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mode = 0o644
        return info

    with tarfile.open(archive, "w") as tar:
        for rel in rels:
            tar.add(tree / rel, arcname=rel, recursive=False, filter=as_served)


def unpack_debs(archive: Path, folder: Path) -> None:
    """The .deb files of a host's archive, and nothing else (no links, no paths out of the folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if not member.isfile() or "/" in name or name.startswith(".") or not name.endswith(".deb"):
                    continue
                source = tar.extractfile(member)
                if source is not None:
                    with source, (folder / name).open("wb") as target:
                        shutil.copyfileobj(source, target)
    except (OSError, tarfile.TarError) as exc:
        raise CcopsError(f"{archive.name}: the downloaded packages did not arrive readable: {exc}") from None


def parse_index(text: str) -> list[dict[str, str]]:
    """apt-cache show's stanzas: the fields a snapshot needs from the release's signed index."""
    out = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(": ")
            if sep and key in ("Package", "Version", "Architecture", "Filename", "SHA256"):
                fields[key] = value.strip()
        if "Package" in fields:
            out.append(fields)
    return out


def verify_download(packages: dict[str, str], index: str, folder: Path) -> dict[str, Path]:
    """Each wanted name=version as a fetched file whose sha256 is the signed index's; pool file name -> file."""
    by_sha = {sha256_file(p): p for p in folder.glob("*.deb")} if folder.is_dir() else {}
    entries = {(e["Package"], e["Version"]): e for e in parse_index(index)}
    out: dict[str, Path] = {}
    for name, version in packages.items():
        entry = entries.get((name, version))
        if entry is None or "SHA256" not in entry or "Filename" not in entry:
            raise CcopsError(f"{name}={version}: not in the release's index on the downloading host; no snapshot")
        source = by_sha.get(entry["SHA256"])
        if source is None:
            raise CcopsError(f"{name}={version}: no fetched file has the index's sha256 {entry['SHA256'][:12]}...; "
                             "no snapshot")  # fmt: skip
        pool_name = Path(entry["Filename"]).name
        if not pool_name.endswith(".deb") or "/" in pool_name or pool_name.startswith("."):
            raise CcopsError(f"{name}={version}: unexpected file name {pool_name[:60]!r} in the index")
        out[pool_name] = source
    return out


def _manifest(
    snapshot_id: str,
    site: str,
    change_id: str | None,
    by: str,
    needs: dict[str, dict[str, HostNeeds]],
    packages: dict[str, dict[str, str]],
    files: list[tuple[str, str]],
) -> dict[str, Any]:
    releases: dict[str, Any] = {}
    for release, chosen in sorted(packages.items()):
        prefix = f"content/{snapshot_id}/debian/pool/{release}/"
        left_out = {n: u.version for per in needs[release].values() for n, u in per.left_out.items()}
        releases[release] = {
            "packages": chosen,
            "files": {rel: sha for rel, sha in files if rel.startswith(prefix)},
            "left_out": dict(sorted(left_out.items())),
        }
    hosts = {
        name: {
            "release": release,
            "packages": {
                n: {"from": u.installed, "to": packages[release][n], "suite": u.suite or "new (needed by an update)"}
                for n, u in sorted(per.selected.items())
            },
        }
        for release, per_release in needs.items()
        for name, per in sorted(per_release.items())
    }
    return new_manifest(snapshot_id, site, change_id, by, releases, hosts, files)


def new_manifest(
    snapshot_id: str,
    site: str,
    change_id: str | None,
    by: str,
    releases: dict[str, Any],
    hosts: dict[str, Any],
    files: list[tuple[str, str]],
    **more: Any,
) -> dict[str, Any]:
    """A snapshot's manifest as it is first written: not staged, not approved."""
    return {
        "id": snapshot_id,
        "site": site,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "created_by": by,
        "change_id": change_id,
        "releases": releases,
        "hosts": hosts,
        "files": dict(files),
        "staged": False,
        "approval": None,
        **more,
    }
