"""Load an inventory folder; report every problem as ``FILE:LINE: message``."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from ccops.errors import InventoryError
from ccops.inventory import cache, ranges
from ccops.inventory.fields import FieldReader
from ccops.inventory.lockout import lockout_problems
from ccops.inventory.model import Host, Inventory, Site, Source
from ccops.inventory.site_file import parse_site
from ccops.inventory.yamldoc import Problem, load

CONFIG_NAME = "ccops.yml"
CONFIG_KEYS = ("plugin", "sites", "offline")


def config_path(path: Path) -> Path:
    """The ``ccops.yml`` of an inventory given as its folder or as the file itself."""
    return path / CONFIG_NAME if path.is_dir() else path


def check_inventory(path: Path, read_instead: dict[Path, Path] | None = None) -> tuple[Inventory | None, list[Problem]]:
    """Load and validate; returns the inventory (None if unusable) and all problems.

    ``read_instead`` maps a site file to another file read in its place (the inventory writer
    validates an edit before it replaces the file); problems still name the site file.
    """
    config = config_path(Path(path))
    label = _label(config)
    if not config.exists():
        return None, [Problem(label, 1, f"no inventory here: expected {CONFIG_NAME} (plugin: ccops)")]
    doc, problems = load(config, label)
    if doc is None:
        return None, problems
    reader = FieldReader(doc)
    data = doc.data if isinstance(doc.data, dict) else {}
    reader.only_keys(data, (), CONFIG_KEYS)
    reader.get(data, (), "plugin", str, required=True, choices=("ccops",))
    sites_dir = config.parent / (reader.get(data, (), "sites", str, default="sites") or "sites")
    offline = reader.get(data, (), "offline", bool, default=False)
    problems += reader.problems
    files = sorted([*sites_dir.glob("*.yml"), *sites_dir.glob("*.yaml")])
    if not files:
        problems.append(Problem(label, doc.line("sites"), f"no site files (*.yml) in {_label(sites_dir)}"))
    sites: dict[str, Site] = {}
    hosts: dict[str, Host] = {}
    duplicates: dict[tuple[Source, Source], list[str]] = defaultdict(list)
    for file in files:
        site_doc, file_problems = load((read_instead or {}).get(file, file), _label(file))
        problems += file_problems
        if site_doc is None:
            continue
        site, site_hosts, site_problems = parse_site(site_doc)
        problems += site_problems
        if site is None:
            continue
        # Ansible's group of a site (site_<code>, lower case) carries the site's variables: two codes that
        # differ only in case would share one group, and one site's settings would reach the other's hosts
        taken = next((s for s in sites.values() if s.code.lower() == site.code.lower()), None)
        if taken is not None:
            problems.append(
                site_doc.problem(("site", "code"), f"site code {site.code!r} is also used by {taken.file}"
                                 + ("" if taken.code == site.code else f" (as {taken.code!r}; codes ignore case)"))
            )  # fmt: skip
            continue
        sites[site.code] = site
        for host in site_hosts:
            first = hosts.get(host.name)
            if first is not None:
                duplicates[(first.source, host.source)].append(host.name)
            else:
                hosts[host.name] = host
    problems += _duplicate_names(duplicates)
    problems += _node_problems(sites, hosts)
    problems += _duplicate_addresses(hosts.values())
    problems += lockout_problems(sites, hosts)
    inventory = Inventory(
        root=config.parent,
        config_file=config,
        files=files,
        offline=bool(offline),
        sites=sites,
        hosts=hosts,
        sites_dir=sites_dir,
    )
    return inventory, sorted(set(problems))


def load_inventory(path: Path) -> Inventory:
    """Load and validate, raising InventoryError listing every problem.

    A fleet-size inventory that validated before and whose files are unchanged is read from
    its private cache (ccops.inventory.cache); anything else is validated from the files.
    """
    config = config_path(Path(path))
    kept = cache.read(config)
    if kept is not None:
        return kept
    before = cache.digests_now(config, cache.sites_dir_of(config))
    inventory, problems = check_inventory(path)
    if problems or inventory is None:
        raise InventoryError(problems)
    cache.write(config, inventory, before)
    return inventory


def _duplicate_names(duplicates: dict[tuple[Source, Source], list[str]]) -> list[Problem]:
    out = []
    for (first, second), names in duplicates.items():
        where = f"{first[0]}:{first[1]}"
        if len(names) == 1:
            message = f"duplicate host name {names[0]} (also at {where})"
        else:
            message = f"{len(names)} host names overlap with the range at {where}: {', '.join(ranges.compress(names))}"
        out.append(Problem(second[0], second[1], message))
    return out


# ansible-core 2.19 runs on Python 3.11+: Debian 11 (3.9) can be a target, never a node
NODE_OS = ("debian12", "debian13")


def _node_problems(sites: dict[str, Site], hosts: dict[str, Host]) -> list[Problem]:
    """A site's node named by host name must be a host the jump host can log in to and run Ansible on."""
    out = []
    for site in sites.values():
        node = site.node
        if node is None or node.host is None:
            continue
        host = hosts.get(node.host)
        problem = None
        if host is None:
            problem = f"site.node: no host {node.host!r} in this inventory"
        elif sites[host.site].connections[host.connection]["type"] != "ssh":
            problem = f"site.node: {host.name} is not reached over ssh (connection {host.connection!r})"
        elif host.os == "debian11":
            problem = (
                f"site.node: {host.name} runs Debian 11, which cannot be a node "
                "(ansible-core 2.19 needs Python 3.11; Debian 11 has 3.9)"
            )
        elif host.os not in NODE_OS:
            problem = f"site.node: {host.name} runs {host.os}; a node runs one of {', '.join(NODE_OS)}"
        elif host.lifecycle in ("planned", "retired"):
            problem = f"site.node: {host.name} is {host.lifecycle} and is never contacted"
        if problem:
            out.append(Problem(site.file, node.line, problem))
    return out


def _duplicate_addresses(hosts: Iterable[Host]) -> list[Problem]:
    seen: dict[tuple[str, int | None], Host] = {}
    clashes: dict[tuple[Source, Source], list[str]] = defaultdict(list)
    for host in hosts:
        if host.address is None:
            continue
        key = (host.address, host.port)
        owner = seen.setdefault(key, host)
        if owner is not host:
            where = _endpoint(host.address, host.port)
            clashes[(owner.source, host.source)].append(f"{host.name} ({where}, also {owner.name})")
    out = []
    for (first, second), names in clashes.items():
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        message = f"duplicate address: {shown}; first defined at {first[0]}:{first[1]}"
        out.append(Problem(second[0], second[1], message))
    return out


def _endpoint(address: str, port: int | None) -> str:
    return address if port is None else f"{address}:{port}"


def _label(path: Path) -> str:
    """A path as a person would type it: relative to the working folder when inside it."""
    # abspath, not resolve: a symlink is named as the user wrote it (and a loop cannot raise)
    relative = os.path.relpath(path)
    return os.path.abspath(path) if relative.startswith("..") else relative  # noqa: PTH100
