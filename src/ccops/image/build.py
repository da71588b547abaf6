"""ccops image build: a golden image from its definition, cached under the state folder.

mmdebstrap installs the release from this machine's own Debian sources, the
customize hook applies the definition's packages, policies and settings, and
the root folder becomes a bootable raw disk (image/disk.py), compressed with
zstd. Beside it: the imaging kernel and initramfs, the iPXE script, and a
manifest with the version, the package list and the sha256 of every
artefact. A build is keyed by the hash of its inputs; an unchanged
definition is not built again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ccops.checksums import sha256_file
from ccops.errors import CcopsError
from ccops.image.definition import ImageDef, images_dir
from ccops.image.disk import make_disk, run
from ccops.image.initramfs import build_initramfs
from ccops.image.sources import build_sources, image_sources
from ccops.paths import state_dir

BASE_PACKAGES = ("linux-image-amd64", "systemd-sysv", "udev", "openssh-server", "initramfs-tools", "zstd", "tzdata")
DISK = "disk.raw.zst"
KERNEL = "vmlinuz"
INITRD = "imager.img"
IPXE = "boot.ipxe"
MANIFEST = "manifest.json"
ZSTD_LEVEL = 6
# raise when what this module, disk.py or initramfs.py make changes: cached builds are then rebuilt
BUILD_FORMAT = 1
KEEP_BUILDS = 2  # per image: the new build and the one before it


@dataclass(frozen=True)
class Build:
    folder: Path
    manifest: dict[str, Any]
    cached: bool

    def artefact(self, name: str) -> Path:
        return self.folder / name


def cache_root() -> Path:
    """Builds are kept here; CCOPS_IMAGE_CACHE shares them between state folders (tests, jump hosts)."""
    shared = os.environ.get("CCOPS_IMAGE_CACHE")
    return Path(shared) if shared else state_dir() / "images"


def input_hash(image: ImageDef) -> str:
    """Everything a build depends on: the definition, the hook and imager, this code, the sources."""
    h = hashlib.sha256()
    files = [image.file, *sorted((images_dir() / "files").iterdir()), *sorted((images_dir() / "imager").iterdir())]
    h.update(f"format {BUILD_FORMAT}\0".encode())
    for path in files:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(build_sources(image.suite).encode() + image_sources(image.suite).encode())
    return h.hexdigest()


def build_folder(image: ImageDef) -> Path:
    return cache_root() / image.name / f"{image.version}-{input_hash(image)[:12]}"


def built_here(image: ImageDef) -> ImageDef:
    """``image``, when ccops builds it; a Windows image's WIM is made, staged and written by the site's
    own imaging server (ccops does not re-image Windows seats)."""
    if image.family != "debian":
        raise CcopsError(
            f"{image.file}: {image.name} is a Windows image: the site's imaging server stages and writes its WIM "
            "(ccops does not re-image Windows); ccops builds, shows, stages and deploys Debian images"
        )
    return image


def cached_build(image: ImageDef) -> Build | None:
    folder = build_folder(built_here(image))
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return None
    return Build(folder, json.loads(manifest.read_text()), True)


def build(image: ImageDef, say: Callable[[str], None] = print, rebuild: bool = False) -> Build:
    built_here(image)  # also with --rebuild, which skips the cache look-up that checks it
    if not rebuild and (done := cached_build(image)):
        say(f"{image.name} {image.version}: unchanged, already built in {done.folder}")
        return done
    for tool in ("mmdebstrap", "mke2fs", "sfdisk", "grub-mkimage", "zstd"):
        if shutil.which(tool) is None:
            raise CcopsError(f"{tool} is not installed: run scripts/setup")
    folder = build_folder(image)
    folder.parent.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".build-"))
    try:
        out = work / "out"
        out.mkdir()
        say(f"{image.name} {image.version}: mmdebstrap {image.suite} (a few minutes)")
        root = _rootfs(image, work)
        kernel, initrd = _kernel_files(root)
        say(f"{image.name}: imaging kernel and initramfs")
        shutil.copyfile(root / kernel.lstrip("/"), out / KERNEL)
        build_initramfs(
            root / "lib" / "modules" / kernel.split("vmlinuz-", 1)[1], images_dir() / "imager", out / INITRD
        )
        packages = _packages(root)
        say(f"{image.name}: disk image")
        raw = work / "disk.raw"
        seed_sector = make_disk(root, kernel, initrd, raw, image.disk_size_mb, work)
        shutil.rmtree(root)
        raw_digest, raw_size = sha256_file(raw), raw.stat().st_size
        say(f"{image.name}: zstd -{ZSTD_LEVEL}")
        run(["zstd", "-q", f"-{ZSTD_LEVEL}", "-T2", "--rm", "-o", str(out / DISK), str(raw)])
        (out / IPXE).write_text(ipxe_script(seed_sector))
        artefacts = {p.name: {"sha256": sha256_file(p), "size": p.stat().st_size} for p in sorted(out.iterdir())}
        manifest = {
            "name": image.name,
            "version": image.version,
            "business_line": image.business_line,
            "os": image.os,
            "suite": image.suite,
            "input_hash": input_hash(image),
            "built": started.isoformat(timespec="seconds"),
            "build_seconds": round((datetime.now(UTC) - started).total_seconds()),
            "disk": {"raw_size": raw_size, "raw_sha256": raw_digest, "seed_sector": seed_sector},
            "artefacts": artefacts,
            "packages": packages,
        }
        (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        out.replace(folder)
    finally:
        _remove_work(work)
    say(f"{image.name} {image.version}: built in {manifest['build_seconds']} s, {folder}")
    _prune(folder.parent, keep=KEEP_BUILDS)
    return Build(folder, manifest, False)


def _remove_work(work: Path) -> None:
    """Remove a build's work folder, unless something is still mounted inside it.

    mmdebstrap mounts /proc and /sys into the root it builds; a build cut off
    (the controller killed) can leave them mounted until mmdebstrap cleans up,
    and deleting through a mount deletes what it shows.
    """
    inside = str(work.resolve()) + "/"
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    if any(m.replace("\\040", " ").startswith(inside) for m in mounts):
        print(f"ccops: left {work} in place: something is still mounted inside it", file=sys.stderr)
        return
    shutil.rmtree(work, ignore_errors=True)


def _prune(image_folder: Path, keep: int) -> None:
    """Drop all but the newest ``keep`` builds of one image (staged copies on points are not touched)."""
    builds = sorted(
        (p for p in image_folder.iterdir() if p.is_dir() and (p / MANIFEST).is_file()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in builds[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def ipxe_script(seed_sector: int) -> str:
    """Loads the imager next to itself; ccops-point, ccops-sha256 and ccops-image are set by the host's script."""
    return (
        "#!ipxe\n"
        f"kernel {KERNEL} console=ttyS0,115200 quiet ccops.point=${{ccops-point}} ccops.image=${{ccops-image}} "
        f"ccops.sha256=${{ccops-sha256}} ccops.mac=${{net0/mac:hexhyp}} ccops.seed_sector={seed_sector}\n"
        f"initrd {INITRD}\n"
        "boot\n"
    )


def _rootfs(image: ImageDef, work: Path) -> Path:
    root = work / "root"
    (work / "build.sources").write_text(build_sources(image.suite))
    (work / "image.sources").write_text(image_sources(image.suite))
    stamp = {
        "name": image.name,
        "version": image.version,
        "business_line": image.business_line,
        "os": image.os,
        "admin_user": image.admin_user,
    }
    (work / "image.json").write_text(json.dumps(stamp, sort_keys=True) + "\n")
    hook = images_dir() / "files" / "customize.sh"
    env = {
        **os.environ,
        "CCOPS_IMAGE_ADMIN_USER": image.admin_user,
        "CCOPS_IMAGE_SSH_PASSWORD_LOGIN": str(image.ssh_password_login).lower(),
        "CCOPS_IMAGE_USB_STORAGE": image.usb_storage,
        "CCOPS_IMAGE_TIMEZONE": image.timezone,
        "CCOPS_IMAGE_MOTD": image.motd,
        "CCOPS_IMAGE_TRIM_MODULES": str(image.trim_kernel_modules).lower(),
        "CCOPS_IMAGE_SOURCES": str(work / "image.sources"),
        "CCOPS_IMAGE_STAMP": str(work / "image.json"),
        "CCOPS_IMAGE_FILES": str(images_dir() / "files"),
    }
    proc = subprocess.run(
        [
            "mmdebstrap",
            "--variant=minbase",
            "--mode=root",
            "--quiet",
            f"--include={','.join(dict.fromkeys((*BASE_PACKAGES, *image.packages)))}",
            f'--customize-hook=sh "{hook}" "$1"',  # sh: an installed wheel may not keep the executable bit
            image.suite,
            str(root),
            str(work / "build.sources"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=3600,
        umask=0o022,  # the image's files keep Debian's usual modes, whatever ccops's umask
    )
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise CcopsError(f"mmdebstrap {image.suite} for {image.name} failed: {tail}")
    return root


def _kernel_files(root: Path) -> tuple[str, str]:
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise CcopsError("the image has no kernel in /boot")
    version = kernels[-1].name.split("vmlinuz-", 1)[1]
    if not (root / "boot" / f"initrd.img-{version}").is_file():
        raise CcopsError(f"the image has no initramfs for kernel {version}")
    return f"/boot/vmlinuz-{version}", f"/boot/initrd.img-{version}"


def _packages(root: Path) -> dict[str, str]:
    out = run(
        ["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"]
    )
    return {
        name: version
        for name, version, status in (line.split("\t") for line in out.splitlines())
        if status.startswith("ii")
    }
