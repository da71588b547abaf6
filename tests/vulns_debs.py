"""Small real .deb files for the vulnerability tests, built with dpkg-deb in a test's own folder."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path


def changelog(source: str, entries: list[tuple[str, str, list[str]]]) -> str:
    """Debian changelog text, newest entry first: (version, urgency, CVE ids)."""
    out = []
    for version, urgency, cves in entries:
        fixes = "".join(f"  * Fix {cve}.\n" for cve in cves) or "  * New upstream release.\n"
        out.append(
            f"{source} ({version}) bookworm-security; urgency={urgency}\n\n{fixes}\n"
            f" -- Maintainer <m@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n"
        )
    return "\n".join(out)


def build_deb(
    folder: Path,
    package: str,
    version: str,
    text: str | bytes | None,
    source: str | None = None,
    compress: str = "xz",
    doc_link: str | None = None,
    packed: bytes | None = None,
) -> Path:
    """A .deb of ``package`` whose changelog.Debian.gz holds ``text`` (raw bytes are gzip-ed as they are).

    ``doc_link``: the package's doc folder is a link to that package's (no changelog of its own);
    ``packed``: the changelog.Debian.gz file's bytes as they are (gzip or not)."""
    root = folder / f"{package}-{version}-root"
    (root / "DEBIAN").mkdir(parents=True)
    fields = f"Package: {package}\nVersion: {version}\nArchitecture: all\nMaintainer: M <m@example.org>\n"
    fields += f"Source: {source}\n" if source else ""
    (root / "DEBIAN" / "control").write_text(fields + "Description: test package\n")
    doc = root / "usr" / "share" / "doc"
    doc.mkdir(parents=True)
    if doc_link:
        (doc / package).symlink_to(doc_link)
    elif text is not None:
        (doc / package).mkdir()
        data = text.encode() if isinstance(text, str) else text
        (doc / package / "changelog.Debian.gz").write_bytes(gzip.compress(data) if packed is None else packed)
    out = folder / f"{package}_{version.replace(':', '%3a')}_all.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", f"-Z{compress}", "--build", str(root), str(out)],
        check=True,
        capture_output=True,
    )
    return out


def place_snapshot(
    content: Path,
    site: str,
    snapshot_id: str,
    created: str,
    release: str,
    debs: dict[str, Path],
    hosts: dict[str, dict[str, tuple[str, str]]],
) -> dict:
    """A staged snapshot's manifest, its .deb files where ccops keeps them (content/points/<site>/...).

    debs: package -> built file; hosts: host -> package -> (installed then, version the snapshot holds)."""
    import hashlib
    import shutil

    files = {}
    for built in debs.values():
        rel = f"content/{snapshot_id}/debian/pool/{release}/{built.name}"
        target = content / "points" / site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, target)
        files[rel] = hashlib.sha256(target.read_bytes()).hexdigest()
    held = {p: v for changes in hosts.values() for p, (_, v) in changes.items()}
    return {
        "id": snapshot_id,
        "site": site,
        "created": created,
        "releases": {release: {"packages": held, "files": files, "left_out": {}}},
        "hosts": {
            host: {"release": release, "packages": {p: {"from": a, "to": b, "suite": "x"} for p, (a, b) in ch.items()}}
            for host, ch in hosts.items()
        },
        "files": files,
        "staged": True,
        "approval": None,
    }
