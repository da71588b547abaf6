"""What a site's distribution point serves, built on the controller: a signed apt repository and plain files.

Layout under the point's path (served over HTTP at its url):
  debian/pool/<variant>/<file>.deb          the catalogue's Debian artefacts for that variant
  debian/dists/<variant>/...                Packages, Release, InRelease, Release.gpg (signed)
  files/<file>                              every other artefact (MSI, EXE)

The tree is kept between stages and changed only where the catalogue changed, so
a stage sends only what the point does not have intact. The signing key is per
inventory, kept in the controller's state (private 0600); hosts get its public
half and trust the repository through ``signed-by``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccops.checksums import sha256_file
from ccops.errors import CcopsError
from ccops.inventory.model import Host, Inventory
from ccops.paths import private_dir, state_dir
from ccops.software.catalogue import Artefact, Catalogue

ARCHITECTURES = "all amd64 arm64 i386"
INDEX_ORDER = ("Packages", "Release", "Release.gpg", "InRelease")  # InRelease last: clients see a whole index


@dataclass(frozen=True)
class KeyFiles:
    home: Path  # gnupg home with the private key (0700)
    public: Path  # the public key, binary, as hosts install it for signed-by


def software_dir(inventory: Inventory) -> Path:
    ident = hashlib.sha256(str(inventory.root).encode()).hexdigest()[:16]
    return private_dir(state_dir() / "software" / ident)


def key_files(inventory: Inventory) -> KeyFiles:
    folder = software_dir(inventory)
    return KeyFiles(folder / "gnupg", folder / "archive-key.gpg")


def _gpg(keys: KeyFiles, *argv: str) -> subprocess.CompletedProcess[str]:
    # gpg-agent's socket lives in the gnupg home and a socket path has at most 107 characters: reach a
    # deep home through a short link of our own
    with tempfile.TemporaryDirectory(prefix="ccops-gpg-") as short:
        home = Path(short) / "h"
        home.symlink_to(keys.home)
        try:
            proc = subprocess.run(
                ["gpg", "--homedir", str(home), "--batch", "--quiet", "--pinentry-mode", "loopback",
                 "--passphrase", "", *argv],
                capture_output=True,
                text=True,
                check=False,
            )  # fmt: skip
        finally:
            # gpg started an agent for this home: it is ours, so end it rather than leave it running
            subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, check=False)
    if proc.returncode != 0:
        raise CcopsError(f"gpg {argv[0]} failed: {proc.stderr.strip()[:300]}")
    return proc


def ensure_key(inventory: Inventory) -> KeyFiles:
    """The inventory's signing key, made on first use."""
    keys = key_files(inventory)
    if keys.public.is_file():
        return keys
    if shutil.which("gpg") is None:
        raise CcopsError("gpg is needed to sign the distribution points' repositories: run scripts/setup")
    private_dir(keys.home)
    _gpg(keys, "--quick-gen-key", f"ccops software archive <{inventory.root.name}@ccops.invalid>", "ed25519",
         "sign", "never")  # fmt: skip
    _gpg_export(keys)
    return keys


def _gpg_export(keys: KeyFiles) -> None:
    tmp = keys.public.with_suffix(".tmp")
    _gpg(keys, "--yes", "--output", str(tmp), "--export")
    os.chmod(tmp, 0o644)  # noqa: PTH101 (the public half: hosts get a copy)
    tmp.replace(keys.public)


@dataclass
class SiteTree:
    """One site's distribution point as built on the controller, and what it refused."""

    site: str
    root: Path
    files: list[tuple[str, str]] = field(default_factory=list)  # (path under the point, sha256), in sending order
    refused: list[str] = field(default_factory=list)  # one line per artefact that failed its checksum


def artefact_path(artefact: Artefact, variant: str) -> str:
    """Where an artefact lives on the point, relative to its path."""
    return f"debian/pool/{variant}/{artefact.file}" if artefact.kind == "deb" else f"files/{artefact.file}"


def site_variants(inventory: Inventory, site: str) -> list[str]:
    return sorted({h.os for h in inventory.hosts.values() if h.site == site and h.lifecycle != "retired"})


def build_site_tree(inventory: Inventory, catalogue: Catalogue, site: str, keys: KeyFiles) -> SiteTree:
    tree = SiteTree(site, private_dir(software_dir(inventory) / "sites") / site)
    tree.root.mkdir(mode=0o755, exist_ok=True)
    wanted: dict[str, Path] = {}
    for app in catalogue.applications.values():
        for version, variants in app.versions.items():
            for variant in site_variants(inventory, site):
                artefact = variants.get(variant)
                if artefact is None:
                    continue
                source = catalogue.artefact_path(artefact)
                problem = _checksum_problem(source, artefact.sha256)
                if problem:
                    tree.refused.append(f"{app.name} {version} ({variant}) {artefact.file}: {problem}")
                    continue
                wanted[artefact_path(artefact, variant)] = source
    _sync_files(tree.root, wanted)
    indexes = [
        _index(tree.root, variant, keys)
        for variant in sorted({p.split("/")[2] for p in wanted if p.startswith("debian/pool/")})
    ]
    listed = [*sorted(wanted), *(p for variant_files in indexes for p in variant_files)]
    tree.files = [(rel, sha256_file(tree.root / rel)) for rel in listed]
    return tree


def _checksum_problem(source: Path, sha256: str) -> str:
    if not source.is_file():
        return f"missing at {source}"
    # the file's own digest is not shown: the catalogue must not learn anything of a file it did not name right
    return "" if sha256_file(source) == sha256 else f"its sha256 differs from the catalogue's {sha256[:12]}...; refused"


def _sync_files(root: Path, wanted: dict[str, Path]) -> None:
    """Make the tree hold exactly the wanted artefacts (indexes are rebuilt after)."""
    for folder in ("debian/pool", "files"):
        for path in sorted((root / folder).rglob("*"), reverse=True) if (root / folder).exists() else []:
            rel = str(path.relative_to(root))
            if path.is_file() and rel not in wanted:
                path.unlink()
    for rel, source in wanted.items():
        target = root / rel
        if target.is_file() and sha256_file(target) == sha256_file(source):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        for parent in [target.parent, *target.parent.parents]:
            if parent == root:
                break
            parent.chmod(0o755)
        shutil.copyfile(source, target)
        target.chmod(0o644)


def _index(root: Path, variant: str, keys: KeyFiles) -> list[str]:
    """The variant's signed index; rebuilt (and re-signed) only when its package list changed."""
    debian = root / "debian"
    dist = debian / "dists" / variant
    binary = dist / "main" / "binary-all"
    binary.mkdir(parents=True, exist_ok=True)
    for folder in (debian / "dists", dist, dist / "main", binary):
        folder.chmod(0o755)
    packages = pool_packages(debian, variant)
    rels = [
        f"debian/dists/{variant}/main/binary-all/Packages",
        *(f"debian/dists/{variant}/{n}" for n in INDEX_ORDER[1:]),
    ]
    current = binary / "Packages"
    if current.is_file() and current.read_text() == packages and all((root / r).is_file() for r in rels):
        return rels
    publish_suite(debian, keys, variant, "all", packages, "ccops software", ARCHITECTURES)
    return rels


def pool_packages(debian: Path, suite: str) -> str:
    """The Packages index of pool/SUITE (apt-ftparchive)."""
    return _run(["apt-ftparchive", "packages", f"pool/{suite}"], debian)


def publish_suite(
    debian: Path, keys: KeyFiles, suite: str, arch: str, packages: str, label: str, architectures: str
) -> None:
    """dists/SUITE/main/binary-ARCH/Packages, then the suite's signed Release."""
    binary = debian / "dists" / suite / "main" / f"binary-{arch}"
    binary.mkdir(parents=True, exist_ok=True)
    _write(binary / "Packages", packages)
    sign_release(debian, keys, suite, label, architectures)


def sign_release(debian: Path, keys: KeyFiles, suite: str, label: str, architectures: str) -> None:
    """Write dists/SUITE/Release and sign it (Release.gpg, InRelease): the inventory's key."""
    dist = debian / "dists" / suite
    release = _run(
        [
            "apt-ftparchive",
            "-o", "APT::FTPArchive::Release::Origin=ccops",
            "-o", f"APT::FTPArchive::Release::Label={label}",
            "-o", f"APT::FTPArchive::Release::Suite={suite}",
            "-o", f"APT::FTPArchive::Release::Codename={suite}",
            "-o", f"APT::FTPArchive::Release::Architectures={architectures}",
            "-o", "APT::FTPArchive::Release::Components=main",
            "release", f"dists/{suite}",
        ],
        debian,
    )  # fmt: skip
    _write(dist / "Release", release)
    _gpg(keys, "--yes", "--armor", "--detach-sign", "--output", str(dist / "Release.gpg"), str(dist / "Release"))
    _gpg(keys, "--yes", "--clearsign", "--output", str(dist / "InRelease"), str(dist / "Release"))
    for name in ("Release.gpg", "InRelease"):
        (dist / name).chmod(0o644)


def sign_file(keys: KeyFiles, path: Path, signature: Path) -> None:
    """An armored detached signature of PATH with the inventory's key, the one the Release files carry."""
    _gpg(keys, "--yes", "--armor", "--detach-sign", "--output", str(signature), str(path))
    signature.chmod(0o644)


def _run(argv: list[str], cwd: Path) -> str:
    if shutil.which(argv[0]) is None:
        raise CcopsError(f"{argv[0]} is needed to build the distribution points' repositories: run scripts/setup")
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CcopsError(f"{argv[0]} failed: {proc.stderr.strip()[:300]}")
    return proc.stdout


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.chmod(0o644)
    tmp.replace(path)


# what the point holds, verified by sha256 on arrival: written after every stage, read by apply
def staged_file(inventory: Inventory, site: str) -> Path:
    return software_dir(inventory) / f"staged-{site}.json"


def save_staged(inventory: Inventory, site: str, verified: dict[str, str]) -> None:
    path = staged_file(inventory, site)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(verified, handle, indent=1, sort_keys=True)
    tmp.replace(path)


def load_staged(inventory: Inventory, site: str) -> dict[str, str]:
    try:
        data = json.loads(staged_file(inventory, site).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def unstaged(inventory: Inventory, hosts: list[Host], items: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Why a run may not start: artefacts the hosts' site points do not hold verified (nothing is
    installed from them), or no signing key yet. Plans show these; runs refuse."""
    missing: set[str] = set()
    by_site: dict[str, dict[str, str]] = {}  # each site's file read once, not once per host
    for host in hosts:
        if host.site not in by_site:
            by_site[host.site] = load_staged(inventory, host.site)
        staged = by_site[host.site]
        for entry in items.get(f"{host.site}/{host.group}", []):
            if entry["state"] != "present":
                continue
            rel = f"debian/pool/{host.os}/{entry['file']}" if entry.get("kind") == "deb" else f"files/{entry['file']}"
            if staged.get(rel) != entry.get("sha256"):
                missing.add(
                    f"{entry['app']} {entry['version']} ({host.os}) is not staged and verified at site {host.site}"
                )
    out = sorted(missing)
    if out:
        sites = sorted({m.rsplit(" ", 1)[1] for m in missing})
        out.append(f"run: ccops software stage --site {' --site '.join(sites)}")
    elif (
        any(e["state"] == "present" for group in items.values() for e in group)
        and not key_files(inventory).public.is_file()
    ):
        out.append("no repository signing key yet; run: ccops software stage")
    return out
