"""software_changes: what a host's desired items change, given the versions it has installed;
dpkg_installed: those versions, read from dpkg-query's Package, Version, Status-Abbrev lines."""

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


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"software_changes": software_changes, "dpkg_installed": dpkg_installed}
