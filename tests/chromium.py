"""Headless Chromium (Debian's package) for the report tests: a screenshot and the DOM it rendered.

Nothing is fetched: the page's own policy forbids it, Chromium is told not to reach
anything (no background services, every name resolves to nothing, a proxy at a port
where nothing listens) and, where user namespaces allow, it runs in a network
namespace of its own that has no interface up.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from functools import cache
from pathlib import Path

NO_NETWORK = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--disable-extensions",
    "--disable-breakpad",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-pings",
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def binary() -> str | None:
    return shutil.which("chromium")


@cache
def _isolation() -> list[str]:
    probe = ["unshare", "--user", "--map-root-user", "--net", "true"]
    if shutil.which("unshare") and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return probe[:-1]
    return []


def _run(page: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    profile = workdir / "chromium-profile"
    profile.mkdir(exist_ok=True)
    argv = [
        *_isolation(),
        str(binary()),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *NO_NETWORK,
        *args,
        page.resolve().as_uri(),
    ]
    return subprocess.run(argv, capture_output=True, cwd=workdir, timeout=120, check=True)


def screenshot(page: Path, workdir: Path, width: int = 1280, height: int = 1800) -> bytes:
    shot = workdir / "page.png"
    _run(page, workdir, f"--window-size={width},{height}", f"--screenshot={shot}")
    return shot.read_bytes()


def dump_dom(page: Path, workdir: Path, *args: str) -> str:
    return _run(page, workdir, *args, "--dump-dom").stdout.decode()


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) bytes of an 8-bit, non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        _unfilter(kind, line, previous, bpp)
        rows.append(bytes(line))
        previous = line
    return width, height, [r if bpp == 3 else _rgb(r) for r in rows]


def _unfilter(kind: int, line: bytearray, up: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    if kind == 2:
        line[:] = bytes((a + b) & 0xFF for a, b in zip(line, up, strict=True))
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + ((left + up[i]) >> 1)) & 0xFF
        else:
            upper_left = up[i - bpp] if i >= bpp else 0
            p = left + up[i] - upper_left
            pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - upper_left)
            pred = left if pa <= pb and pa <= pc else (up[i] if pb <= pc else upper_left)
            line[i] = (line[i] + pred) & 0xFF


def _rgb(row: bytes) -> bytes:
    return b"".join(row[i : i + 3] for i in range(0, len(row), 4))


def white_share(rows: list[bytes], step: int = 4) -> float:
    """The share of white pixels, over every ``step``-th row: 1.0 is a blank page."""
    sample = rows[::step]
    pixels = sum(len(row) // 3 for row in sample)
    white = sum(row[i : i + 3] == b"\xff\xff\xff" for row in sample for i in range(0, len(row), 3))
    return white / pixels if pixels else 1.0
