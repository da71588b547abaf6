"""The imaging initramfs: busybox, zstd (with the libraries it links), the NIC and disk drivers, the imager.

Written as a newc cpio archive by hand (no cpio tool needed), gzip-compressed.
"""

from __future__ import annotations

import gzip
import lzma
import re
import shutil
import subprocess
from pathlib import Path

from ccops.errors import CcopsError

WANTED_MODULES = ("virtio_pci", "virtio_net", "virtio_blk")


class Cpio:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.ino = 1
        self.seen: set[str] = set()

    def _entry(self, name: str, mode: int, data: bytes = b"") -> None:
        self.ino += 1
        encoded = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
        header = b"070701" + b"".join(f"{f:08x}".encode() for f in fields)
        self.chunks.append(header + encoded + b"\0" * (-(110 + len(encoded)) % 4))
        self.chunks.append(data + b"\0" * (-len(data) % 4))

    def dir(self, name: str) -> None:
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            path = "/".join(parts[:i])
            if path not in self.seen:
                self.seen.add(path)
                self._entry(path, 0o040755)

    def file(self, name: str, data: bytes, mode: int = 0o644) -> None:
        name = name.strip("/")
        if "/" in name:
            self.dir(name.rsplit("/", 1)[0])
        self._entry(name, 0o100000 | mode, data)

    def symlink(self, name: str, target: str) -> None:
        name = name.strip("/")
        if "/" in name:
            self.dir(name.rsplit("/", 1)[0])
        self._entry(name, 0o120777, target.encode())

    def archive(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return b"".join(self.chunks)


def _libraries(binary: Path) -> list[Path]:
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False).stdout
    return [Path(p) for p in re.findall(r"(/\S+)\s+\(0x", out)]


def _modules(modules_root: Path) -> list[tuple[str, bytes]]:
    """(name, uncompressed .ko) for the wanted drivers and their dependencies, in load order."""
    builtin = (modules_root / "modules.builtin").read_text()
    deps: dict[str, list[str]] = {}
    for line in (modules_root / "modules.dep").read_text().splitlines():
        path, _, rest = line.partition(":")
        deps[path] = rest.split()
    by_name = {re.sub(r"\.ko(\.\w+)?$", "", Path(p).name).replace("-", "_"): p for p in deps}
    order: list[str] = []

    def add(path: str) -> None:
        for dep in reversed(deps.get(path, [])):
            add(dep)
        if path not in order:
            order.append(path)

    for name in WANTED_MODULES:
        if name in by_name:
            add(by_name[name])
        elif f"/{name}.ko" not in builtin:
            raise CcopsError(f"the image's kernel has no {name} driver")
    out = []
    for path in order:
        raw = (modules_root / path).read_bytes()
        if path.endswith(".xz"):
            raw = lzma.decompress(raw)
        elif path.endswith(".zst"):
            raw = subprocess.run(["zstd", "-d", "-c"], input=raw, capture_output=True, check=True).stdout
        out.append((re.sub(r"\.ko(\.\w+)?$", ".ko", Path(path).name), raw))
    return out


def build_initramfs(modules_root: Path, imager_dir: Path, out: Path) -> None:
    busybox = Path("/bin/busybox")
    zstd = shutil.which("zstd")
    if not busybox.is_file() or zstd is None:
        raise CcopsError("busybox-static and zstd are needed to build the imager: run scripts/setup")
    cpio = Cpio()
    for folder in ("proc", "sys", "dev", "tmp", "lib/modules", "etc"):
        cpio.dir(folder)
    cpio.file("bin/busybox", busybox.read_bytes(), 0o755)
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout.split()
    for applet in applets:
        if applet not in ("busybox",):
            cpio.symlink(f"bin/{applet}", "busybox")
    cpio.file("bin/zstd", Path(zstd).read_bytes(), 0o755)
    for lib in _libraries(Path(zstd)):
        cpio.file(str(lib), lib.resolve().read_bytes(), 0o755)
    modules = _modules(modules_root)
    for name, data in modules:
        cpio.file(f"lib/modules/{name}", data)
    cpio.file("lib/modules/order", "".join(f"{name}\n" for name, _ in modules).encode())
    cpio.file("init", (imager_dir / "init").read_bytes(), 0o755)
    cpio.file("bin/dhcp-script", (imager_dir / "dhcp-script").read_bytes(), 0o755)
    out.write_bytes(gzip.compress(cpio.archive(), compresslevel=6, mtime=0))
