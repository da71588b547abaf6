"""A bootable partitioned raw disk from a root folder, without loop devices or mounts.

mke2fs -d fills an ext4 file system from the folder; sfdisk writes an msdos
table into a sparse file; the file system is copied in at 1 MiB; GRUB's
boot.img and a grub-mkimage core image (with its boot commands embedded) go
into the first sectors. A 1 MiB seed partition at the end receives each
machine's own settings from the imager.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ccops.errors import CcopsError

MIB = 1 << 20
SECTOR = 512
ROOT_START = MIB
SEED_SIZE = MIB
ROOT_LABEL = "ccops-root"
GRUB_DIR = Path("/usr/lib/grub/i386-pc")
GRUB_MODULES = ("biosdisk", "part_msdos", "ext2", "linux", "boot", "echo")
MBR_CODE = 440  # boot.img's code; the disk signature and partition table after it stay sfdisk's


def run(argv: list[str], timeout: int = 1800) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout)
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise CcopsError(f"{argv[0]} failed ({proc.returncode}): {tail}")
    return proc.stdout


def folder_size(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath, name)
            if not path.is_symlink():
                total += path.stat().st_blocks * 512
    return total


def make_disk(root: Path, kernel: str, initrd: str, out: Path, size_mb: int | None, work: Path) -> int:
    """Write the disk image ``out``; answer the seed partition's first sector."""
    fs_mb = size_mb or (folder_size(root) * 13 // 10 // MIB + 160)
    fs = work / "root.ext4"
    fs.unlink(missing_ok=True)
    run(
        [
            "mke2fs",
            "-q",
            "-F",
            "-t",
            "ext4",
            "-L",
            ROOT_LABEL,
            "-E",
            "root_owner=0:0",
            "-d",
            str(root),
            str(fs),
            f"{fs_mb}M",
        ]
    )
    seed_start = ROOT_START + fs_mb * MIB
    with out.open("wb") as handle:
        handle.truncate(seed_start + SEED_SIZE)
    table = (
        "label: dos\n"
        f"start={ROOT_START // SECTOR}, size={fs_mb * MIB // SECTOR}, type=83, bootable\n"
        f"start={seed_start // SECTOR}, size={SEED_SIZE // SECTOR}, type=da\n"
    )
    proc = subprocess.run(
        ["sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", str(out)],
        input=table,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise CcopsError(f"sfdisk failed: {proc.stderr.strip()}")
    _copy_sparse(fs, out, ROOT_START)
    fs.unlink()
    _write_grub(out, kernel, initrd, work)
    return seed_start // SECTOR


def _copy_sparse(src: Path, dst: Path, offset: int) -> None:
    """Copy ``src`` into ``dst`` at ``offset``, leaving holes where ``src`` has zeros."""
    zero = bytes(MIB)
    with src.open("rb") as fin, dst.open("r+b") as fout:
        pos = 0
        while chunk := fin.read(MIB):
            if chunk != zero[: len(chunk)]:
                fout.seek(offset + pos)
                fout.write(chunk)
            pos += len(chunk)


def _write_grub(disk: Path, kernel: str, initrd: str, work: Path) -> None:
    early = work / "early.cfg"
    early.write_text(
        "set root=(hd0,msdos1)\n"
        f"linux {kernel} root=LABEL={ROOT_LABEL} ro console=ttyS0,115200 console=tty0 quiet\n"
        f"initrd {initrd}\n"
        "boot\n"
    )
    core = work / "core.img"
    run(
        [
            "grub-mkimage",
            "-O",
            "i386-pc",
            "-o",
            str(core),
            "-c",
            str(early),
            "-p",
            "(hd0,msdos1)/boot/grub",
            *GRUB_MODULES,
        ]
    )
    core_bytes = core.read_bytes()
    if len(core_bytes) > ROOT_START - SECTOR:
        raise CcopsError(f"GRUB core image is {len(core_bytes)} bytes: it does not fit before the first partition")
    boot = (GRUB_DIR / "boot.img").read_bytes()
    with disk.open("r+b") as handle:
        handle.write(boot[:MBR_CODE])
        handle.seek(SECTOR)  # boot.img loads the core image from sector 1, its default
        handle.write(core_bytes)
