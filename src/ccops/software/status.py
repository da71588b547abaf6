"""ccops software status: which hosts run which version, from their asset records, with drift named."""

from __future__ import annotations

from typing import Any

from ccops.inventory.model import Host
from ccops.software.catalogue import Catalogue
from ccops.software.desired import installed_packages, requirements_for
from ccops.store.records import Store


def status_rows(catalogue: Catalogue, hosts: list[Host], store: Store, app: str | None = None) -> list[dict[str, Any]]:
    """One row per host and application that is required there or recorded as installed."""
    rows = []
    for host in hosts:
        asset = store.asset(host.name)
        packages = installed_packages(asset)
        wanted = {r.app: r.version for r in requirements_for(catalogue, host)}
        for name, application in catalogue.applications.items():
            if app is not None and name != app:
                continue
            package = _package(application, host)
            if host.os_family != "debian" or package is None:
                installed: str | None = "?"
            elif isinstance(packages, dict):
                installed = packages.get(package)
            else:
                installed = "?"
            if name not in wanted and installed in (None, "?"):
                continue
            row = {
                "host": host.name,
                "app": name,
                "desired": _desired(wanted, name),
                "installed": installed,
                "state": _state(wanted, name, installed, application, host),
                "recorded": (asset or {}).get("collected") or "",
            }
            rows.append(row)
    return rows


def _package(application: Any, host: Host) -> str | None:
    for variants in reversed(application.versions.values()):
        artefact = variants.get(host.os)
        if artefact is not None and artefact.kind == "deb":
            return str(artefact.package)
    return None


def _desired(wanted: dict[str, str | None], name: str) -> str:
    if name not in wanted:
        return "-"
    return wanted[name] or "absent"


def _state(wanted: dict[str, str | None], name: str, installed: str | None, application: Any, host: Host) -> str:
    if installed == "?":
        return "unknown: no asset record of it (ccops inspect)" if host.os_family == "debian" else "unknown"
    if name not in wanted:
        return f"not managed: {installed} installed, no requirement"
    version = wanted[name]
    if version is None:
        return "ok" if installed is None else f"DRIFT: {installed} installed, desired absent"
    want = application.versions[version][host.os].version if host.os in application.versions[version] else version
    if installed == want:
        return "ok"
    if installed is None:
        return f"DRIFT: not installed, desired {version}"
    return f"DRIFT: {installed} installed, desired {version}"
