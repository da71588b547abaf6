"""The validated inventory kept between commands, for fleets where reading the YAML is most of a plan.

Kept only for an inventory that validated with no problem, in the user's private state
folder (0700, the file 0600 and owned by the user), and used only when every file that
shapes the inventory still has the digest it had, for the same ccops and the same working
folder (problems and sources name files relative to it). Anything else, a damaged or foreign
entry included, means: validate the files again. A bad inventory is never cached, so its
problems are always reported from the files, with their lines.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import yaml

from ccops import __version__
from ccops.inventory.model import Host, Inventory, Site

FORMAT = 2
HOST_FIELDS = tuple(f.name for f in fields(Host))
SITE_FIELDS = tuple(f.name for f in fields(Site))  # a Site pickled before a field was added lacks it
WORTH_IT = 2000  # hosts: below this, validating the files is as quick as reading a cache


def digests_now(config: Path, sites_dir: Path) -> dict[str, str]:
    """sha256 of ccops.yml and of every site file the sites folder holds now."""
    files = [config, *sorted({*sites_dir.glob("*.yml"), *sites_dir.glob("*.yaml")})]
    out: dict[str, str] = {}
    for path in files:
        if not path.is_file():
            out[str(path)] = "not a regular file"
            continue
        out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _header(config: Path) -> tuple[Any, ...]:
    return (FORMAT, __version__, HOST_FIELDS, SITE_FIELDS, os.getcwd(), os.path.abspath(config))  # noqa: PTH100, PTH109


def _entry(config: Path) -> Path:
    from ccops.paths import private_dir, state_dir

    name = hashlib.sha256(repr(_header(config)).encode()).hexdigest()[:32]
    return private_dir(state_dir() / "cache" / "inventory") / f"{name}.pickle"


def read(config: Path) -> Inventory | None:
    """The inventory kept for ``config``, if every file it came from is unchanged; else None."""
    try:
        entry = _entry(config)
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW)
    except Exception:  # no entry, or a state folder ccops may not use: validate the files
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
                return None  # not written by this user's ccops: never read
            header, sites_dir, digests, inventory, rows, shared = pickle.load(handle)  # noqa: S301 (checked above)
        if header != _header(config) or not isinstance(inventory, Inventory):
            return None
        if digests_now(Path(config), Path(sites_dir)) != digests:
            return None
        inventory.hosts = _hosts(rows, shared)
    except Exception:  # a damaged or older entry is no entry
        return None
    return inventory


# Hosts travel as rows of their fields, their variables as an index into the group's shared
# dict: twice as quick to read as pickled dataclasses. Each host gets its own copy back.
_VARS = HOST_FIELDS.index("vars")


def _rows(hosts: dict[str, Host]) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
    shared: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    rows = []
    for host in hosts.values():
        key = repr(sorted(host.vars.items()))
        if key not in index:
            index[key] = len(shared)
            shared.append(host.vars)
        rows.append(tuple(index[key] if name == "vars" else getattr(host, name) for name in HOST_FIELDS))
    return rows, shared


def _hosts(rows: list[tuple[Any, ...]], shared: list[dict[str, Any]]) -> dict[str, Host]:
    out = {}
    for row in rows:
        values = list(row)
        values[_VARS] = dict(shared[values[_VARS]])
        host = Host(*values)
        out[host.name] = host
    return out


def sites_dir_of(config: Path) -> Path:
    """The sites folder ccops.yml names (read again, fully, when the inventory is validated)."""
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        named = data.get("sites") if isinstance(data, dict) else None
    except (OSError, ValueError, yaml.YAMLError):
        named = None
    return config.parent / (named if isinstance(named, str) and named else "sites")


def write(config: Path, inventory: Inventory, before: dict[str, str]) -> None:
    """Keep a validated inventory of fleet size (best effort: a failure only costs the next command time).

    ``before`` holds the digests taken before the files were read: an edit made while they
    were validated shows as a difference, and nothing is kept.
    """
    if len(inventory.hosts) < WORTH_IT:
        return
    try:
        sites_dir = sites_dir_of(config)
        digests = digests_now(config, sites_dir)
        if digests != before or sites_dir != (inventory.sites_dir or inventory.root / "sites"):
            return
        entry = _entry(config)
        rows, shared = _rows(inventory.hosts)
        document = (_header(config), str(sites_dir), digests, replace(inventory, hosts={}, cache={}), rows, shared)
        tmp = entry.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(document, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(entry)
    except Exception:  # never fail a command for its cache
        return
