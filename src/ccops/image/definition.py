"""Golden image definitions: images/golden/NAME.yml, one per business line and OS variant.

A definition is data, read like a site file: every problem is one FILE:LINE line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccops.errors import InventoryError, UsageError
from ccops.inventory.fields import FieldReader, dotted
from ccops.inventory.model import OS_VARIANTS
from ccops.inventory.variants import DEBIAN_SUITES
from ccops.inventory.yamldoc import KeyPath, Problem, load
from ccops.paths import project_root

SUITES = DEBIAN_SUITES
TOP_KEYS = ("image", "packages", "policies", "settings", "wim")
IMAGE_KEYS = ("version", "business_line", "os", "description", "disk_size_mb", "trim_kernel_modules")
POLICY_KEYS = ("usb_storage", "ssh_password_login")
SETTING_KEYS = ("timezone", "admin_user", "motd")
WIM_KEYS = ("file", "index", "sha256")
NAME = re.compile(r"[a-z][a-z0-9-]{0,47}")
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+~-]{0,39}")
PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]{0,99}")
LOGIN = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
TIMEZONE = re.compile(r"[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}")
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ImageDef:
    name: str
    file: Path
    version: str
    business_line: str
    os: str
    description: str = ""
    packages: tuple[str, ...] = ()
    usb_storage: str = "blocked"
    ssh_password_login: bool = False
    timezone: str = "UTC"
    admin_user: str = "ccops"
    motd: str = ""
    disk_size_mb: int | None = None  # None: the root file system's size plus room
    trim_kernel_modules: bool = False  # keep only the drivers a virtual machine needs (smaller, faster)
    wim: dict[str, Any] = field(default_factory=dict)  # Windows: the WIM staged for the imaging server

    @property
    def family(self) -> str:
        return OS_VARIANTS[self.os]

    @property
    def suite(self) -> str:
        return SUITES[self.os]


def images_dir() -> Path:
    return project_root() / "images" / "golden"


def names() -> list[str]:
    return sorted(p.stem for p in images_dir().glob("*.yml"))


def load_image(name: str) -> ImageDef:
    if not NAME.fullmatch(name):
        raise UsageError(f"{name[:60]!r} is not an image name (lower-case letters, digits and '-')")
    path = images_dir() / f"{name}.yml"
    if not path.is_file():
        known = ", ".join(names()) or "none"
        raise UsageError(f"no image {name!r} in {images_dir()}; images: {known}")
    image, problems = parse(path)
    if problems or image is None:
        raise InventoryError(sorted(problems))
    return image


def validate_all() -> list[Problem]:
    problems: list[Problem] = []
    for name in names():
        problems += parse(images_dir() / f"{name}.yml")[1]
    return sorted(problems)


def parse(path: Path) -> tuple[ImageDef | None, list[Problem]]:
    doc, problems = load(path, str(path))
    if doc is None:
        return None, problems
    reader = FieldReader(doc)
    reader.problems += problems
    data = doc.data
    if not reader.valid(data, (), dict):
        return None, reader.problems
    reader.only_keys(data, (), TOP_KEYS)
    if not NAME.fullmatch(path.stem):
        reader.report((), f"{path.name}: an image file is named NAME.yml (lower-case letters, digits, '-')")
    head = reader.get(data, (), "image", dict, required=True) or {}
    reader.only_keys(head, ("image",), IMAGE_KEYS)
    version = _matching(reader, head, ("image",), "version", VERSION, "a version like 2026.11.1", required=True)
    line = _matching(reader, head, ("image",), "business_line", LOGIN, "lower_snake_case", required=True)
    os_variant = reader.get(head, ("image",), "os", str, required=True, choices=tuple(OS_VARIANTS))
    size = reader.get(head, ("image",), "disk_size_mb", int)
    if size is not None and not 256 <= size <= 65536:
        reader.report(("image", "disk_size_mb"), f"image.disk_size_mb: {size} is not between 256 and 65536")
    policies = reader.get(data, (), "policies", dict, default={})
    reader.only_keys(policies, ("policies",), POLICY_KEYS)
    settings = reader.get(data, (), "settings", dict, default={})
    reader.only_keys(settings, ("settings",), SETTING_KEYS)
    packages = _packages(reader, data)
    wim = _wim(reader, data, os_variant)
    if os_variant in SUITES and "wim" in data:
        reader.report(("wim",), "wim: only Windows images are staged as a WIM")
    image = ImageDef(
        name=path.stem,
        file=path,
        version=version or "",
        business_line=line or "",
        os=os_variant or "",
        description=reader.get(head, ("image",), "description", str, default=""),
        packages=packages,
        usb_storage=reader.get(
            policies, ("policies",), "usb_storage", str, default="blocked", choices=("blocked", "allowed")
        ),
        ssh_password_login=reader.get(policies, ("policies",), "ssh_password_login", bool, default=False),
        timezone=_matching(reader, settings, ("settings",), "timezone", TIMEZONE, "a time zone like Asia/Shanghai")
        or "UTC",
        admin_user=_matching(reader, settings, ("settings",), "admin_user", LOGIN, "a login name") or "ccops",
        motd=_motd(reader, settings),
        disk_size_mb=size,
        trim_kernel_modules=reader.get(head, ("image",), "trim_kernel_modules", bool, default=False),
        wim=wim,
    )
    return (None if reader.problems else image), sorted(reader.problems)


def _matching(
    reader: FieldReader,
    mapping: dict[str, Any],
    kp: KeyPath,
    key: str,
    pattern: re.Pattern[str],
    what: str,
    required: bool = False,
) -> str | None:
    value = reader.get(mapping, kp, key, str, required=required)
    if value is not None and not pattern.fullmatch(value):
        reader.report((*kp, key), f"{dotted((*kp, key))}: {value[:60]!r} is not {what}")
        return None
    return value


def _packages(reader: FieldReader, data: dict[str, Any]) -> tuple[str, ...]:
    raw = reader.get(data, (), "packages", list, default=[])
    out = []
    for i, name in enumerate(raw):
        if reader.valid(name, ("packages", i), str):
            if PACKAGE.fullmatch(name):
                out.append(name)
            else:
                reader.report(("packages", i), f"packages[{i}]: {name[:60]!r} is not a Debian package name")
    return tuple(out)


def _motd(reader: FieldReader, settings: dict[str, Any]) -> str:
    motd = reader.get(settings, ("settings",), "motd", str, default="")
    if len(motd) > 2000 or any(ord(c) < 32 and c != "\n" for c in motd):
        reader.report(("settings", "motd"), "settings.motd: at most 2000 characters of printable text")
        return ""
    return motd


def _wim(reader: FieldReader, data: dict[str, Any], os_variant: str | None) -> dict[str, Any]:
    wim = reader.get(data, (), "wim", dict, default={})
    if not wim:
        if os_variant and OS_VARIANTS.get(os_variant) == "windows":
            reader.report(("image",), "wim: required for a Windows image (file, index, sha256)")
        return {}
    reader.only_keys(wim, ("wim",), WIM_KEYS)
    file = reader.get(wim, ("wim",), "file", str, required=True)
    if file is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.wim", file):
        reader.report(("wim", "file"), f"wim.file: {file[:60]!r} is a plain file name ending in .wim")
    index = reader.get(wim, ("wim",), "index", int, required=True)
    if index is not None and not 1 <= index <= 64:
        reader.report(("wim", "index"), f"wim.index: {index} is not between 1 and 64")
    sha = _matching(reader, wim, ("wim",), "sha256", SHA256, "a sha256 (64 lower-case hex digits)", required=True)
    return {"file": file, "index": index, "sha256": sha}
