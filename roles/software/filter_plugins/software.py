"""software_changes: what a host's desired items change, given the versions it has installed;
dpkg_installed: those versions, read from dpkg-query's Package, Version, Status-Abbrev lines;
win_removal_plan: how each Windows application is removed and then checked gone (never by
running its installer)."""

from __future__ import annotations

from typing import Any


def software_changes(items: list[dict[str, Any]], installed: dict[str, str]) -> list[dict[str, Any]]:
    """One change per item that differs: install, upgrade (or downgrade: apt decides), remove."""
    out = []
    for item in items:
        have = installed.get(item.get("package") or item["app"])
        if item["state"] == "absent":
            if have is not None:
                out.append({**item, "action": "remove", "from": have, "to": ""})
            continue
        want = item.get("package_version") or item["version"]
        if have != want:
            out.append({**item, "action": "install" if have is None else "upgrade", "from": have or "", "to": want})
    return out


def dpkg_installed(lines: list[str]) -> dict[str, str]:
    """Installed packages only ("ii", "hi": a half-removed or config-only one is not installed)."""
    out = {}
    for line in lines:
        fields = line.split("\t")
        if len(fields) == 3 and fields[2][1:2] == "i":
            out[fields[0]] = fields[1]
    return out


def win_removal_plan(items: list[dict[str, Any]]) -> dict[str, Any]:
    """An MSI goes by its product code; an EXE by its declared uninstall command, else by its
    uninstall key (detect.product_id); an EXE with neither is refused (only its installer is
    known, and an installer run with install arguments installs). Each removal is then checked
    gone by the product code / key, else by the detection file."""
    out: dict[str, Any] = {
        "refused": [],
        "by_product_id": [],
        "by_command": [],
        "verify_by_id": [],
        "verify_by_path": [],
    }
    for item in items:
        app, kind, detect = item["app"], item.get("kind"), item.get("detect") or {}
        product_id = item.get("product_code") if kind == "msi" else detect.get("product_id")
        argv = list(item.get("uninstall") or [])
        if kind == "exe" and argv:
            out["by_command"].append({"app": app, "argv": argv})
        elif kind in ("msi", "exe") and product_id:
            out["by_product_id"].append({"app": app, "product_id": product_id})
        elif kind in ("msi", "exe"):
            out["refused"].append(
                f"{app}: no uninstall command and no uninstall key in the catalogue (uninstall:, detect.product_id):"
                " not removed, its installer is never run to remove it"
            )
            continue
        else:
            continue  # no artefact for this OS: nothing to find
        if product_id:
            out["verify_by_id"].append({"app": app, "product_id": product_id})
        else:
            out["verify_by_path"].append({"app": app, "path": detect["path"]})
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "software_changes": software_changes,
            "dpkg_installed": dpkg_installed,
            "win_removal_plan": win_removal_plan,
        }
