"""What each host should run, from the catalogue's requirement rules, and what a run changes to get there.

A run's content is computed when it is planned (and again when it is resumed,
so a fixed catalogue is what a resume installs): one list of items per site
and group, since every rule matches on what a group's hosts share (OS variant,
role, business line, site, group). The playbook compares the items with what
the host really has; plans compare them with the host's asset record.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from ccops.errors import CcopsError, UsageError
from ccops.inventory.model import Host, Inventory
from ccops.software.catalogue import Application, Artefact, Catalogue, Requirement, load_catalogue
from ccops.store.db import Database, StoreError
from ccops.store.records import Store

T = TypeVar("T")


def selector_values(host: Host) -> dict[str, str]:
    return {"os": host.os, "role": host.role, "line": host.business_line, "site": host.site, "group": host.group}


def group_key(host: Host) -> str:
    """The key of a host's items in the run's content: the playbook builds it from ccops_site and ccops_group."""
    return f"{host.site}/{host.group}"


def requirements_for(catalogue: Catalogue, host: Host) -> list[Requirement]:
    values = selector_values(host)
    seen: dict[str, Requirement] = {}
    for rule in catalogue.requirements:
        if rule.matches(values):
            seen.setdefault(rule.app, rule)  # overlapping rules with different versions were refused
    return list(seen.values())


def item(app: Application, host: Host, version: str | None) -> dict[str, Any]:
    """One application as the playbook needs it on one kind of host (no templates: data checked by the catalogue)."""
    out: dict[str, Any] = {
        "app": app.name,
        "state": "absent" if version is None else "present",
        "version": version or "",
        "service": app.service,
        "port": app.port or 0,
        "config_paths": app.config_paths,
    }
    artefact = _artefact_for(app, host, version)
    if artefact is not None:
        out |= {
            "kind": artefact.kind,
            "file": artefact.file,
            "sha256": artefact.sha256,
            "package": artefact.package,
            "package_version": artefact.version,
            "product_code": artefact.product_code,
            "arguments": artefact.arguments,
            "detect": artefact.detect,
            "uninstall": list(artefact.uninstall),
        }
    return out


def _artefact_for(app: Application, host: Host, version: str | None) -> Artefact | None:
    if version is not None:
        artefact = app.versions[version].get(host.os)
        if artefact is None:
            raise CcopsError(
                f"{app.source[0]}:{app.source[1]}: {app.name} {version} has no artefact for {host.os} "
                f"(host {host.name})"
            )
        return artefact
    # removing: any version's artefact tells how the application is found (package name, product code)
    for variants in reversed(app.versions.values()):
        if host.os in variants:
            return variants[host.os]
    return None


def desired_items(
    catalogue: Catalogue, hosts: Iterable[Host], remove: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Items per site/group: the requirement rules' (apply), or one application to remove (remove)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for host in hosts:
        key = group_key(host)
        if key in out:
            continue
        if remove is not None:
            items = [item(catalogue.applications[remove], host, None)]
        else:
            items = [item(catalogue.applications[r.app], host, r.version) for r in requirements_for(catalogue, host)]
        # absent, with no artefact for this OS: ccops never installed it here and cannot tell how it
        # would be found (package name, product code), so there is nothing it can remove
        out[key] = [i for i in items if i["state"] == "present" or "kind" in i]
    return out


def change(entry: dict[str, Any], installed: str | None) -> dict[str, Any] | None:
    """What an item changes on a host with ``installed`` (None: not installed; '?' unknown)."""
    if entry["state"] == "absent":
        return None if installed is None else {"app": entry["app"], "action": "remove", "from": installed, "to": ""}
    want = entry.get("package_version") or entry["version"]
    if installed == want:
        return None
    action = "install" if installed is None else "unknown" if installed == "?" else "upgrade"
    if action == "upgrade" and _older(want, installed or ""):
        action = "downgrade"
    return {"app": entry["app"], "action": action, "from": installed or "", "to": want}


def _older(want: str, have: str) -> bool:
    def key(v: str) -> list[tuple[int, Any]]:
        return [(0, int(p)) if p.isdigit() else (1, p) for p in v.replace("-", ".").split(".")]

    return key(want) < key(have)


def installed_packages(asset: dict[str, Any] | None) -> dict[str, str] | None:
    """Package -> version from a host's asset record (ccops inspect), None without one."""
    items = (((asset or {}).get("record") or {}).get("packages") or {}).get("items")
    return items if isinstance(items, dict) else None


def host_changes(items: list[dict[str, Any]], asset: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What a run would change on a host, from its asset record (Debian packages; others unknown)."""
    packages = installed_packages(asset)
    out = []
    for entry in items:
        known = entry.get("kind") == "deb" and isinstance(packages, dict)
        installed = packages.get(entry["package"]) if known and packages is not None else "?"
        found = change(entry, installed)
        if found is not None:
            out.append(found)
    return out


def remove_content(
    inventory: Inventory, hosts: list[Host], options: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """software-remove's content hook: one application desired absent (ccops software remove APP)."""
    if not options.get("software_remove"):
        raise UsageError(
            "software remove needs the application: ccops software remove APP (ccops plan software remove APP)"
        )
    return run_content(inventory, hosts, options)


def run_content(
    inventory: Inventory, hosts: list[Host], options: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The software verbs' content hook: extra variables for the playbook and the plan's per-host changes."""
    from ccops.run.execute import open_store
    from ccops.software.points import key_files, unstaged

    catalogue = load_catalogue(inventory.root)
    remove = options.get("software_remove") or None
    if remove is not None and remove not in catalogue.applications:
        raise UsageError(f"no application {remove!r} in the catalogue; known: {', '.join(catalogue.applications)}")
    items = desired_items(catalogue, hosts, remove)
    store = open_store()
    # only a Debian package's change is read from the asset record (host_changes): others need none
    needs_record = {key for key, group in items.items() if any(e.get("kind") == "deb" for e in group)}
    with one_transaction(store):
        per_host = {
            h.name: host_changes(items[group_key(h)], store.asset(h.name) if group_key(h) in needs_record else None)
            for h in hosts
        }
    public_key = key_files(inventory).public
    extravars = {"software_desired": items, "software_key_file": str(public_key)}
    return extravars, {"software": per_host, "refusals": unstaged(inventory, hosts, items)}


@contextmanager
def one_transaction(store: Store) -> Iterator[None]:
    """The store's reads inside the block share one connection and one read transaction.

    A plan reads one asset record per host: a connection each cost more than the reads at
    fleet size. Reads go through the store's own methods, so what they decode stays theirs.
    """
    database = store.db
    # the store's own connection settings (row factory, the decoding that marks damaged text)
    with closing(database._connect(database.timeout)) as db:
        db.execute("BEGIN")
        shared = _SharedRead(database.path, database.timeout, db)
        store.db = shared
        try:
            yield
        finally:
            store.db = database


class _SharedRead(Database):
    """A Database whose reads run in one open transaction (see one_transaction)."""

    def __init__(self, path: Path, timeout: float, db: sqlite3.Connection) -> None:
        super().__init__(path, timeout)
        self._db = db

    def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return work(self._db)

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        raise StoreError("a plan does not write the store")
