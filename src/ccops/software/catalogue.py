"""The software catalogue kept with the inventory (``<inventory>/catalogue/*.yml``), validated like a site file.

Each application has versions; each version, per OS variant, the artefact that
installs it and how to detect it: a Debian package from the site's repository,
an MSI with its product code, an EXE with a detection rule. Requirement rules
say which hosts (OS variant, role, business line, site, group) should run
which version, or not have the application at all. Every problem is reported
as ``FILE:LINE: message``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccops.inventory.fields import FieldReader, dotted
from ccops.inventory.model import OS_VARIANTS, ROLES
from ccops.inventory.yamldoc import KeyPath, Problem, YamlDoc, load

CATALOGUE_DIR = "catalogue"
NAME = re.compile(r"[a-z0-9][a-z0-9+.-]{0,62}")
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+~-]{0,63}")
FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+~-]{0,199}")
SHA256 = re.compile(r"[0-9a-f]{64}")
PRODUCT_CODE = re.compile(r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}")
SERVICE = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._-]{0,127}")
SELECTOR_KEYS = ("os", "role", "line", "site", "group")
KINDS = {"deb": "debian", "msi": "windows", "exe": "windows"}
_ARTEFACT_KEYS = {
    "deb": ("type", "package", "version", "file", "sha256"),
    "msi": ("type", "file", "sha256", "product_code", "arguments"),
    "exe": ("type", "file", "sha256", "arguments", "detect", "uninstall"),
}


@dataclass(frozen=True)
class Artefact:
    """What installs one application version on one OS variant."""

    kind: str  # deb, msi, exe
    file: str  # its name in the catalogue's artefacts folder (and on the distribution point)
    sha256: str
    package: str = ""  # deb: the package name and version apt installs
    version: str = ""
    product_code: str = ""  # msi
    arguments: str = ""  # msi, exe
    detect: dict[str, str] = field(default_factory=dict)  # exe: {path, version} or {product_id}
    # exe: the program and arguments that remove it (argv, never the installer); without it an
    # exe is removed only through its uninstall key (detect.product_id)
    uninstall: tuple[str, ...] = ()


@dataclass
class Application:
    name: str
    versions: dict[str, dict[str, Artefact]]  # version -> OS variant -> artefact
    service: str = ""  # health: the service that must run and the TCP port that must answer
    port: int | None = None
    config_paths: list[str] = field(default_factory=list)  # backed up before a change, restored on rollback
    source: tuple[str, int] = ("", 0)


@dataclass(frozen=True)
class Requirement:
    app: str
    version: str | None  # None: the application must be absent
    match: dict[str, tuple[str, ...]]  # selector key -> allowed values; a missing key matches any
    source: tuple[str, int]

    def matches(self, values: dict[str, str]) -> bool:
        return all(values[key] in allowed for key, allowed in self.match.items())


@dataclass
class Catalogue:
    root: Path  # the inventory folder
    files: list[Path]
    artefacts_dir: Path
    applications: dict[str, Application]
    requirements: list[Requirement]

    def artefact_path(self, artefact: Artefact) -> Path:
        return self.artefacts_dir / artefact.file


def catalogue_files(inventory_root: Path) -> list[Path]:
    folder = inventory_root / CATALOGUE_DIR
    return sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])


def check_catalogue(inventory_root: Path) -> tuple[Catalogue, list[Problem]]:
    """Load and validate every catalogue file of an inventory (none is an empty catalogue)."""
    files = catalogue_files(inventory_root)
    catalogue = Catalogue(inventory_root, files, inventory_root / CATALOGUE_DIR / "artefacts", {}, [])
    problems: list[Problem] = []
    docs: list[tuple[YamlDoc, FieldReader]] = []
    for path in files:
        doc, load_problems = load(path, _label(path))
        problems += load_problems
        if doc is None:
            continue
        reader = FieldReader(doc)
        docs.append((doc, reader))
        data = doc.data if isinstance(doc.data, dict) else {}
        if not isinstance(doc.data, dict):
            reader.report((), "a catalogue file is a mapping: artefacts, applications, requirements")
        reader.only_keys(data, (), ("artefacts", "applications", "requirements"))
        folder = reader.get(data, (), "artefacts", str)
        if folder is not None and _artefacts_folder_ok(reader, folder):
            # relative: inside the inventory; absolute: the operator's store, as the reviewed catalogue names it
            catalogue.artefacts_dir = Path(os.path.abspath(inventory_root / folder))  # noqa: PTH100
        for name, raw in (reader.get(data, (), "applications", dict, default={}) or {}).items():
            app = _application(reader, name, raw, ("applications", name))
            if app is None:
                continue
            if name in catalogue.applications:
                first = catalogue.applications[name].source
                reader.report(("applications", name), f"application {name} is also declared at {first[0]}:{first[1]}")
                continue
            catalogue.applications[name] = app
    for doc, reader in docs:
        data = doc.data if isinstance(doc.data, dict) else {}
        for i, raw in enumerate(reader.get(data, (), "requirements", list, default=[]) or []):
            rule = _requirement(reader, catalogue, raw, ("requirements", i))
            if rule is not None:
                _check_overlap(reader, catalogue.requirements, rule, ("requirements", i))
                catalogue.requirements.append(rule)
        problems += reader.problems
    return catalogue, sorted(set(problems))


def load_catalogue(inventory_root: Path) -> Catalogue:
    from ccops.errors import InventoryError

    catalogue, problems = check_catalogue(inventory_root)
    if problems:
        raise InventoryError(problems)
    return catalogue


def _application(reader: FieldReader, name: str, raw: Any, kp: KeyPath) -> Application | None:
    if not NAME.fullmatch(name):
        reader.report(kp, f"{dotted(kp)}: {name!r} is not an application name (lower-case letters, digits, + . -)")
        return None
    if not reader.valid(raw, kp, dict):
        return None
    reader.only_keys(raw, kp, ("versions", "health", "config_paths"))
    app = Application(name, {}, source=(reader.doc.path, reader.doc.line(*kp)))
    _health(reader, app, raw, kp)
    for i, path in enumerate(reader.get(raw, kp, "config_paths", list, default=[]) or []):
        if reader.valid(path, (*kp, "config_paths", i), str) and _absolute(reader, path, (*kp, "config_paths", i)):
            app.config_paths.append(path)
    versions = reader.get(raw, kp, "versions", dict, required=True) or {}
    for version, variants in versions.items():
        vkp = (*kp, "versions", version)
        if not VERSION.fullmatch(version):
            reader.report(vkp, f"{dotted(vkp)}: {version!r} is not a version")
        elif reader.valid(variants, vkp, dict):
            app.versions[version] = _variants(reader, variants, vkp)
    return app


def _health(reader: FieldReader, app: Application, raw: dict[str, Any], kp: KeyPath) -> None:
    hkp = (*kp, "health")
    health = reader.get(raw, kp, "health", dict, default={}) or {}
    reader.only_keys(health, hkp, ("service", "port"))
    service = reader.get(health, hkp, "service", str)
    if service is not None and not SERVICE.fullmatch(service):
        reader.report((*hkp, "service"), f"{dotted((*hkp, 'service'))}: not a service name")
    else:
        app.service = service or ""
    port = reader.get(health, hkp, "port", int)
    if port is not None and not 1 <= port <= 65535:
        reader.report((*hkp, "port"), f"{dotted((*hkp, 'port'))}: a port is 1-65535")
    else:
        app.port = port


def _variants(reader: FieldReader, variants: dict[str, Any], vkp: KeyPath) -> dict[str, Artefact]:
    artefacts = {}
    for variant, spec in variants.items():
        if variant not in OS_VARIANTS:
            reader.report(
                (*vkp, variant),
                f"{dotted((*vkp, variant))}: unknown OS variant {variant!r}; known: " + ", ".join(OS_VARIANTS),
            )
            continue
        artefact = _artefact(reader, spec, (*vkp, variant), OS_VARIANTS[variant])
        if artefact is not None:
            artefacts[variant] = artefact
    return artefacts


def _artefact(reader: FieldReader, raw: Any, kp: KeyPath, family: str) -> Artefact | None:
    if not reader.valid(raw, kp, dict):
        return None
    kind = reader.get(raw, kp, "type", str, required=True, choices=tuple(KINDS))
    if kind is None:
        return None
    if KINDS[kind] != family:
        reader.report((*kp, "type"), f"{dotted((*kp, 'type'))}: a {kind} artefact cannot install on a {family} host")
        return None
    reader.only_keys(raw, kp, _ARTEFACT_KEYS[kind])
    values = {key: _text(reader, raw, kp, key, pattern) for key, pattern in _patterns(kind).items()}
    arguments = reader.get(raw, kp, "arguments", str, default="") or ""
    if not arguments.isprintable() or len(arguments) > 1024:
        reader.report((*kp, "arguments"), f"{dotted((*kp, 'arguments'))}: printable text of at most 1024 characters")
        return None
    detect = _detect(reader, raw, kp) if kind == "exe" else {}
    uninstall = _uninstall(reader, raw, kp) if kind == "exe" else ()
    if any(v is None for v in values.values()) or (kind == "exe" and not detect) or uninstall is None:
        return None
    return Artefact(
        kind, arguments=arguments, detect=detect, uninstall=uninstall, **{k: v for k, v in values.items() if v}
    )


WIN_EXE = re.compile(r"[A-Za-z]:\\[^\x00-\x1f\"*?<>|]{1,250}\.[Ee][Xx][Ee]")


def _uninstall(reader: FieldReader, raw: dict[str, Any], kp: KeyPath) -> tuple[str, ...] | None:
    """An EXE's uninstall command: [absolute path of a .exe, argument, ...], each a plain string."""
    argv = reader.get(raw, kp, "uninstall", list)
    ukp = (*kp, "uninstall")
    if argv is None:
        return None if "uninstall" in raw else ()
    if not 1 <= len(argv) <= 32 or not all(isinstance(a, str) for a in argv):
        reader.report(ukp, f"{dotted(ukp)}: a list of 1 to 32 strings (the program, then its arguments)")
        return None
    if not WIN_EXE.fullmatch(argv[0]):
        reader.report((*ukp, 0), f"{dotted((*ukp, 0))}: the absolute path of a .exe (C:\\...\\uninstall.exe)")
        return None
    for i, arg in enumerate(argv[1:], 1):
        if not arg or not arg.isprintable() or len(arg) > 512:
            reader.report((*ukp, i), f"{dotted((*ukp, i))}: printable text of 1 to 512 characters")
            return None
    return tuple(argv)


def _patterns(kind: str) -> dict[str, re.Pattern[str]]:
    out = {"file": FILE_NAME, "sha256": SHA256}
    if kind == "deb":
        out |= {"package": NAME, "version": VERSION}
    if kind == "msi":
        out["product_code"] = PRODUCT_CODE
    return out


def _text(reader: FieldReader, raw: dict[str, Any], kp: KeyPath, key: str, pattern: re.Pattern[str]) -> str | None:
    value = reader.get(raw, kp, key, str, required=True)
    if value is not None and not pattern.fullmatch(value):
        reader.report((*kp, key), f"{dotted((*kp, key))}: {value[:80]!r} is not a valid {key.replace('_', ' ')}")
        return None
    return value


def _detect(reader: FieldReader, raw: dict[str, Any], kp: KeyPath) -> dict[str, str]:
    """An EXE's detection rule: a file (and its version) it leaves, or its uninstall registry key."""
    rule = reader.get(raw, kp, "detect", dict)
    dkp = (*kp, "detect")
    if not rule:
        reader.report(kp, f"{dotted(kp)}: an exe needs a detection rule (detect: {{path, version}} or {{product_id}})")
        return {}
    reader.only_keys(rule, dkp, ("path", "version", "product_id"))
    out = {k: v for k in ("path", "version", "product_id") if (v := reader.get(rule, dkp, k, str))}
    if "path" not in out and "product_id" not in out:
        reader.report(dkp, f"{dotted(dkp)}: needs path (with an optional version) or product_id")
        return {}
    if "path" in out and not re.fullmatch(r"[A-Za-z]:\\[^\x00-\x1f\"*?<>|]{1,250}", out["path"]):
        reader.report((*dkp, "path"), f"{dotted((*dkp, 'path'))}: an absolute Windows path (C:\\...)")
        return {}
    if "product_id" in out and not re.fullmatch(r"[A-Za-z0-9{}._ -]{1,128}", out["product_id"]):
        reader.report((*dkp, "product_id"), f"{dotted((*dkp, 'product_id'))}: an uninstall key name or product code")
        return {}
    return out


def _absolute(reader: FieldReader, path: str, kp: KeyPath) -> bool:
    """A POSIX or Windows path below the root, each part plain: no '.', '..', and none that
    a tool would read as an option or an archive to include ('-', '@' first)."""
    drive = re.match(r"[A-Za-z]:\\", path)
    if (path.startswith("/") or drive) and path.isprintable() and '"' not in path and len(path) <= 1024:
        parts = re.split(r"[\\/]", path[3 if drive else 1 :].rstrip("\\/"))
        if all(parts) and not any(p in (".", "..") or p[0] in "-@" for p in parts):
            return True
    reader.report(kp, f"{dotted(kp)}: {path[:80]!r} is not an absolute path below the root with plain parts")
    return False


def _artefacts_folder_ok(reader: FieldReader, folder: str) -> bool:
    parts = folder.replace("\\", "/").split("/")
    if folder and folder.isprintable() and not folder.startswith("~") and ".." not in parts:
        return True
    reader.report(("artefacts",), f"artefacts: {folder[:80]!r} is a folder on this controller: no '~' or '..'")
    return False


def _requirement(reader: FieldReader, catalogue: Catalogue, raw: Any, kp: KeyPath) -> Requirement | None:
    if not reader.valid(raw, kp, dict):
        return None
    reader.only_keys(raw, kp, ("app", "version", "state", *SELECTOR_KEYS))
    name = reader.get(raw, kp, "app", str, required=True)
    state = reader.get(raw, kp, "state", str, default="present", choices=("present", "absent"))
    version = reader.get(raw, kp, "version", str)
    match = _match(reader, raw, kp)
    if name is None or match is None:
        return None
    app = catalogue.applications.get(name)
    if app is None:
        reader.report((*kp, "app"), f"{dotted((*kp, 'app'))}: no application {name!r} in the catalogue")
        return None
    if not _version_ok(reader, app, state, version, match, kp):
        return None
    return Requirement(name, version if state == "present" else None, match, (reader.doc.path, reader.doc.line(*kp)))


def _match(reader: FieldReader, raw: dict[str, Any], kp: KeyPath) -> dict[str, tuple[str, ...]] | None:
    """The hosts a rule is for: each selector key a list of allowed values (os and role must be known ones)."""
    match = {}
    known = {"os": tuple(OS_VARIANTS), "role": ROLES}
    for key in SELECTOR_KEYS:
        values = reader.get(raw, kp, key, list)
        if values is None:
            continue
        if not all(reader.valid(v, (*kp, key, i), str) for i, v in enumerate(values)):
            return None
        bad = [(i, v) for i, v in enumerate(values) if key in known and v not in known[key]]
        for i, value in bad:
            what = "OS variant" if key == "os" else "role"
            reader.report((*kp, key, i), f"{dotted((*kp, key, i))}: unknown {what} {value!r}")
        if bad:
            return None
        match[key] = tuple(values)
    return match


def _version_ok(
    reader: FieldReader,
    app: Application,
    state: str | None,
    version: str | None,
    match: dict[str, tuple[str, ...]],
    kp: KeyPath,
) -> bool:
    if state == "absent":
        if version is not None:
            reader.report((*kp, "version"), f"{dotted((*kp, 'version'))}: an absent application has no version")
        return version is None
    if version is None:
        reader.report(kp, f"{dotted(kp)}: version: required (or state: absent)")
        return False
    if version not in app.versions:
        known = ", ".join(app.versions)
        reader.report(
            (*kp, "version"),
            f"{dotted((*kp, 'version'))}: version {version!r} of {app.name} does not exist; known: {known}",
        )
        return False
    missing = [v for v in match.get("os", ()) if v not in app.versions[version]]
    if missing:
        reader.report(
            (*kp, "os"), f"{dotted((*kp, 'os'))}: {app.name} {version} has no artefact for {', '.join(missing)}"
        )
    return not missing


def _check_overlap(reader: FieldReader, earlier: list[Requirement], rule: Requirement, kp: KeyPath) -> None:
    """An application required twice with different versions (or present and absent) for the same hosts."""
    for other in earlier:
        if other.app != rule.app or other.version == rule.version:
            continue
        shared = set(rule.match) & set(other.match)
        if all(set(rule.match[k]) & set(other.match[k]) for k in shared):
            reader.report(
                kp,
                f"{dotted(kp)}: {rule.app} is required as {rule.version or 'absent'} here and as "
                f"{other.version or 'absent'} at "
                f"{other.source[0]}:{other.source[1]} for the same hosts",
            )


def _label(path: Path) -> str:
    relative = os.path.relpath(path)
    return os.path.abspath(path) if relative.startswith("..") else relative  # noqa: PTH100
