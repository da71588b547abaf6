"""A .deb's control fields and its changelog, read as data: nothing in the package runs.

A .deb is an ``ar`` archive: ``debian-binary``, ``control.tar.*`` and ``data.tar.*``.
Both tars are streamed through Python's decompressors (zstd's program for a zst member) with a cap on the bytes they
may produce (a decompression bomb stops at the cap), and only two members are read:
``./control`` and ``./usr/share/doc/<package>/changelog.Debian.gz`` (a regular file;
a link is never followed). A package whose doc folder is a link to another package's
has no changelog of its own: its source's changelog comes from a sibling (classify).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, cast

from ccops.content.selection import PACKAGE_NAME

AR_MAGIC = b"!<arch>\n"
MAX_CONTROL_BYTES = 1 << 20  # a control file is a few kB
MAX_TAR_BYTES = 2 << 30  # a kernel image's data.tar is about 500 MB
MAX_CHANGELOG_GZ = 8 << 20  # the kernel's is about 1.5 MB compressed
MAX_CHANGELOG_BYTES = 32 << 20  # and about 3.5 MB as text
_SOURCE = re.compile(r"(?P<name>[a-z0-9][a-z0-9+.-]{0,127})(?: \((?P<version>[^\s()]{1,256})\))?")


class DebDamaged(ValueError):
    """The file does not read as a Debian package within the caps."""


@dataclass(frozen=True)
class DebInfo:
    package: str
    version: str
    source: str
    changelog: str | None  # the text, or None when the package carries none of its own


def read_deb(path: Path) -> DebInfo:
    with path.open("rb") as handle, ExitStack() as stack:
        members = dict(_members(handle, path.stat().st_size))
        control = _control(_tar(handle, members, "control.tar", stack))
        package = control.get("Package", "")
        if not PACKAGE_NAME.fullmatch(package) or not control.get("Version"):
            raise DebDamaged("control names no package and version")
        source = _SOURCE.fullmatch(control.get("Source", package))
        if source is None:
            raise DebDamaged("control's Source field does not read as a package name")
        changelog = _changelog(_tar(handle, members, "data.tar", stack), package)
    return DebInfo(package, control["Version"], source["name"], changelog)


def _members(handle: BinaryIO, size: int) -> Iterator[tuple[str, tuple[int, int]]]:
    """name -> (offset, size) of each member, every header checked against the file's size."""
    if handle.read(8) != AR_MAGIC:
        raise DebDamaged("not an ar archive")
    offset = 8
    for _ in range(16):  # a .deb holds three members; a few more are tolerated, not thousands
        header = handle.read(60)
        if not header:
            return
        if len(header) != 60 or header[58:60] != b"`\n":
            raise DebDamaged("a damaged ar member header")
        try:
            name = header[:16].decode("ascii").rstrip(" ").rstrip("/")
            length = int(header[48:58].decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            raise DebDamaged("a damaged ar member header") from None
        offset += 60
        if length < 0 or offset + length > size:
            raise DebDamaged(f"ar member {name!r} runs past the end of the file")
        yield name, (offset, length)
        offset += length + (length % 2)
        handle.seek(offset)
    raise DebDamaged("too many ar members for a Debian package")


class _Capped(io.RawIOBase):
    """Reads ``source`` up to ``limit`` bytes: past it, the end (``slice``) or an error, never a silent cut."""

    def __init__(
        self, source: IO[bytes] | io.BufferedIOBase, limit: int, what: str, slice_of_file: bool = False
    ) -> None:
        self.source, self.limit, self.left, self.what, self.slice = source, limit, limit, what, slice_of_file

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self.left if self.slice else self.left + 1)
        data = self.source.read(want) if want else b""
        if len(data) > self.left:
            raise DebDamaged(f"{self.what} is larger than {self.limit} bytes")
        self.left -= len(data)
        buffer[: len(data)] = data
        return len(data)


_OPENERS: dict[str, Callable[[IO[bytes]], io.BufferedIOBase]] = {
    ".gz": lambda raw: gzip.GzipFile(fileobj=raw),
    ".xz": lzma.LZMAFile,
    ".bz2": bz2.BZ2File,
    "": lambda raw: io.BufferedReader(cast(io.RawIOBase, raw)),
}


def _tar(handle: BinaryIO, members: dict[str, tuple[int, int]], stem: str, stack: ExitStack) -> tarfile.TarFile:
    found = [name for name in members if name == stem or name.startswith(stem + ".")]
    if len(found) != 1:
        raise DebDamaged(f"no single {stem} member")
    offset, length = members[found[0]]
    handle.seek(offset)
    raw = _Capped(handle, length, found[0], slice_of_file=True)  # never reads into the next member
    compression = found[0].removeprefix(stem)
    opener = _OPENERS.get(compression)
    if compression == ".zst":
        opened: IO[bytes] | io.BufferedIOBase = _unzstd(cast(IO[bytes], raw), stack)
    elif opener is not None:
        opened = opener(cast(IO[bytes], raw))  # closed with the handle: the tar is read as a stream, then dropped
    else:
        raise DebDamaged(f"{found[0]}: compression not read here (only gz, xz, zst, bz2 or none)")
    limit = MAX_CONTROL_BYTES * 16 if stem == "control.tar" else MAX_TAR_BYTES
    try:
        return tarfile.open(fileobj=cast(IO[bytes], _Capped(opened, limit, f"{found[0]} unpacked")), mode="r|")
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise DebDamaged(f"{found[0]}: {exc}") from None


def _unzstd(raw: IO[bytes], stack: ExitStack) -> IO[bytes]:
    """zstd's output for a zst member (Python 3.11 has no zstd): the member copied to a private temporary
    file first, the decompressor given it as its standard input (argv, no shell) and stopped when done."""
    if shutil.which("zstd") is None:
        raise DebDamaged("a zstd-compressed member, and no zstd program here to read it")
    packed = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (the stack closes it)
    shutil.copyfileobj(raw, packed)
    packed.seek(0)
    process = subprocess.Popen(
        ["zstd", "-d", "-c", "-q"], stdin=packed, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    stack.callback(_stop, process)
    return cast(IO[bytes], process.stdout)  # stdout=PIPE: never None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()  # the changelog was found (or the cap reached): the rest is not needed
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _wanted(tar: tarfile.TarFile, path: str, limit: int) -> bytes | None:
    """The regular file ``path`` of a streamed tar, at most ``limit`` bytes; None when absent or a link."""
    try:
        for member in tar:
            if member.name.removeprefix("./") != path:
                continue
            if not member.isreg():
                return None
            if member.size > limit:
                raise DebDamaged(f"{path} is larger than {limit} bytes")
            source = tar.extractfile(member)
            return source.read(limit + 1) if source else None
    except (tarfile.TarError, OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
        raise DebDamaged(f"{path}: {exc}") from None
    return None


def _control(tar: tarfile.TarFile) -> dict[str, str]:
    data = _wanted(tar, "control", MAX_CONTROL_BYTES)
    if data is None:
        raise DebDamaged("no control file")
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in ("Package", "Version", "Source"):
            fields[key] = value.strip()
    return fields


def _changelog(tar: tarfile.TarFile, package: str) -> str | None:
    packed = _wanted(tar, f"usr/share/doc/{package}/changelog.Debian.gz", MAX_CHANGELOG_GZ)
    if packed is None:
        return None
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
    try:
        text = inflate.decompress(packed, MAX_CHANGELOG_BYTES + 1)
    except zlib.error as exc:
        raise DebDamaged(f"changelog.Debian.gz does not unpack: {exc}") from None
    if len(text) > MAX_CHANGELOG_BYTES or inflate.unconsumed_tail:
        raise DebDamaged(f"changelog unpacks to more than {MAX_CHANGELOG_BYTES} bytes")
    return text.decode("utf-8", "replace")
