"""The Debian security tracker's JSON export, imported from a file (``ccops vulns import FILE``).

Its shape: ``{source: {CVE id: {"releases": {codename: {"status": ..., "fixed_version": ...,
"urgency": ...}}, ...}}}``. Only what classification needs is kept, per CVE and release:
status, fixed version ("0": the release was never affected) and urgency. Ids that are
not CVEs (TEMP-...) are left out; an entry that does not fit the shape is counted and
left out, never guessed at.

An import is kept like a snapshot: what was kept (``tracker.json``) and a manifest (who,
when, change id, the export's and the kept file's sha256) signed with the inventory's key
(``manifest.json.asc``, the key that signs the points' repositories), built under the
site's point tree as ``content/tracker-<id>/`` and staged on the site's point through the
snapshots' seed-and-stage runs. Only then does the site's record name it: a failed parse,
build or stage leaves the previous import in use. ``load`` trusts an import only when its
signature and sha256 verify; anything else is one line naming the file, and no tracker data.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccops.checksums import sha256_file
from ccops.content.selection import PACKAGE_NAME
from ccops.errors import CcopsError
from ccops.report.reverted import BadVersion, compare
from ccops.vulns.changelog import CVE_ID

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.runner.progress import Progress

MAX_EXPORT_BYTES = 1 << 30
STATUSES = ("resolved", "open", "undetermined")
URGENCIES = ("unimportant", "low", "medium", "high", "not yet assigned", "end-of-life")
RELEASE = re.compile(r"[a-z]{2,32}")
NOT_AFFECTED = "0"
IMPORT_ID = re.compile(r"tracker-[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")
SHA256 = re.compile(r"[0-9a-f]{64}")
DATA, MANIFEST, SIGNATURE = "tracker.json", "manifest.json", "manifest.json.asc"
FORMAT = 1

# source -> CVE -> release -> (status, fixed version or "", urgency)
Tracker = dict[str, dict[str, dict[str, tuple[str, str, str]]]]


@dataclass
class Imported:
    data: Tracker
    kept: int
    skipped: int


@dataclass
class Loaded:
    data: Tracker
    imported: str | None  # when the verified import was made
    problem: str | None  # why an import on record was not trusted (one line naming the file)


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


def point_prefix(import_id: str) -> str:
    """Where an import lives under the site's point path, beside the snapshots' content/<id>/."""
    return f"content/{import_id}"


def _record_path(content: Path, site: str) -> Path:
    return content / "vulns" / f"tracker-{site}.json"


def _write(path: Path, text: str, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, mode)  # noqa: PTH101 (the umask may have narrowed it)
    tmp.replace(path)


def build_import(
    tree: Path, site: str, source: Path, imported: Imported, change_id: str, by: str, keys: Any, now: datetime
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The kept data and its signed manifest under the site's point tree; (manifest, files for the point)."""
    from ccops.content.snapshots import new_snapshot_id
    from ccops.software.points import sign_file

    import_id = f"tracker-{new_snapshot_id(now)}"
    prefix = point_prefix(import_id)
    folder = tree / prefix
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # served by the point, as the snapshots are
    _write(folder / DATA, json.dumps(imported.data, sort_keys=True, separators=(",", ":")), 0o644)
    manifest = {
        "format": FORMAT,
        "id": import_id,
        "site": site,
        "imported": now.isoformat(timespec="seconds"),
        "by": by,
        "change_id": change_id,
        "file": source.name,
        "source_sha256": sha256_file(source),
        "kept": imported.kept,
        "skipped": imported.skipped,
        "files": {DATA: sha256_file(folder / DATA)},
    }
    _write(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True), 0o644)
    sign_file(keys, folder / MANIFEST, folder / SIGNATURE)
    files = [(f"{prefix}/{name}", sha256_file(folder / name)) for name in (DATA, MANIFEST, SIGNATURE)]
    return manifest, files


def import_export(
    inventory_path: Path,
    inventory: Inventory,
    sites: list[str],
    source: Path,
    imported: Imported,
    change_id: str,
    progress: Progress | None = None,
    engine: Any = None,
) -> dict[str, dict[str, Any]]:
    """Build, sign and stage the import for each site, then make it the site's: site -> manifest with runs."""
    from ccops.content.snapshot import point_host, stage_on_point
    from ccops.content.snapshots import content_dir
    from ccops.run import operator
    from ccops.run.prepare import refuse_offline
    from ccops.software.points import ensure_key

    refuse_offline(inventory)
    for site in sites:
        point_host(inventory, site)  # every site has a point before any import is built
    keys = ensure_key(inventory)
    content = content_dir(inventory)
    now, by = datetime.now(UTC), operator()
    done: dict[str, dict[str, Any]] = {}
    for site in sites:
        tree = content / "points" / site
        manifest, files = build_import(tree, site, source, imported, change_id, by, keys, now)
        try:
            runs = stage_on_point(inventory_path, inventory, site, manifest["id"], files, change_id, progress, engine)
        except BaseException:
            shutil.rmtree(tree / point_prefix(manifest["id"]), ignore_errors=True)
            raise  # the site keeps its previous import
        make_current(content, site, manifest["id"], runs)
        _drop_older(tree, manifest["id"])
        done[site] = manifest | {"runs": runs}
    return done


def _drop_older(tree: Path, current: str) -> None:
    """The controller keeps only the current import's files (the point keeps what it was given)."""
    folder = tree / "content"
    for old in folder.iterdir() if folder.is_dir() else []:
        if old.name != current and IMPORT_ID.fullmatch(old.name) and old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)


def make_current(content: Path, site: str, import_id: str, runs: list[str]) -> None:
    """The site's record names this import from now on (one atomic replace; 0600)."""
    record = {"id": import_id, "runs": runs}
    _write(_folder(content) / f"tracker-{site}.json", json.dumps(record, sort_keys=True), 0o600)


def load(content: Path, site: str, public_key: Path) -> Loaded:
    """The site's import, only when its manifest's signature (the inventory's key) and sha256s verify."""
    path = _record_path(content, site)
    if not path.exists():
        return Loaded({}, None, None)
    try:
        return _verified(content, site, public_key, _record_id(path))
    except _Untrusted as exc:
        return Loaded({}, None, f"{exc}; the tracker's classes are left out (ccops vulns import FILE --change-id ID)")


class _Untrusted(Exception):
    pass


def _record_id(path: Path) -> str:
    try:
        import_id = json.loads(path.read_text())["id"]
    except (OSError, ValueError, KeyError, TypeError):
        import_id = None
    if not isinstance(import_id, str) or not IMPORT_ID.fullmatch(import_id):
        raise _Untrusted(f"{path}: not a signed import's record")
    return import_id


def _verified(content: Path, site: str, public_key: Path, import_id: str) -> Loaded:
    folder = content / "points" / site / point_prefix(import_id)
    if not verify_signature(public_key, folder / MANIFEST, folder / SIGNATURE):
        raise _Untrusted(f"{folder / MANIFEST}: its signature does not verify with the inventory's key")
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        wanted = manifest["files"][DATA]
        fits = manifest["format"] == FORMAT and manifest["id"] == import_id and manifest["site"] == site
        imported = str(manifest["imported"])
    except (OSError, ValueError, KeyError, TypeError):
        fits, wanted, imported = False, "", ""
    if not fits or not isinstance(wanted, str) or not SHA256.fullmatch(wanted):
        raise _Untrusted(f"{folder / MANIFEST}: not an import manifest for site {site}")
    try:
        data = json.loads((folder / DATA).read_text()) if sha256_file(folder / DATA) == wanted else None
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise _Untrusted(f"{folder / DATA}: its sha256 differs from its signed manifest")
    out: Tracker = {}
    for source, cves in data.items():
        if isinstance(cves, dict):
            out[source] = {cve: _kept_releases(rels) for cve, rels in cves.items() if isinstance(rels, dict)}
    return Loaded(out, imported, None)


def verify_signature(public_key: Path, path: Path, signature: Path) -> bool:
    """Whether SIGNATURE is a good signature of PATH by the key in PUBLIC_KEY (gpgv, a keyring of one key)."""
    if shutil.which("gpgv") is None or not public_key.is_file() or not path.is_file() or not signature.is_file():
        return False
    with tempfile.TemporaryDirectory(prefix="ccops-gpgv-") as home:
        proc = subprocess.run(
            ["gpgv", "--homedir", home, "--keyring", str(public_key.resolve()), str(signature), str(path)],
            capture_output=True,
            check=False,
        )
    return proc.returncode == 0


def _folder(content: Path) -> Path:
    from ccops.paths import private_dir

    return private_dir(content / "vulns")


def _kept_releases(releases: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {r: (str(v[0]), str(v[1]), str(v[2])) for r, v in releases.items() if isinstance(v, list) and len(v) == 3}
