"""What changed on a host between two of its inspections.

Compares two asset records: packages added, removed and changed; pending
updates; disks (free space moved, a disk filling); services started, stopped
or failed; policy drift (the compliance each record carried); an uptime reset
(the host booted in between); kernel and OS release.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# a disk's change shows when its free space moved by at least this much (MB) or by 0.5 % of its size
DISK_NOISE_MB = 256
DISK_NOISE_SHARE = 0.005
# boot times computed from two records' uptimes differ by this much (seconds) without a reboot
BOOT_SLACK_SECONDS = 120


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _packages(record: dict[str, Any]) -> dict[str, str]:
    items = (record.get("packages") or {}).get("items")
    return {str(k): str(v) for k, v in items.items()} if isinstance(items, dict) else {}


def packages_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    before, after = _packages(old), _packages(new)
    return {
        "added": [{"name": n, "version": after[n]} for n in sorted(after.keys() - before.keys())],
        "removed": [{"name": n, "version": before[n]} for n in sorted(before.keys() - after.keys())],
        "changed": [
            {"name": n, "from": before[n], "to": after[n]}
            for n in sorted(before.keys() & after.keys())
            if before[n] != after[n]
        ],
    }


def _pending(record: dict[str, Any]) -> dict[str, bool]:
    items = (record.get("updates") or {}).get("items") or []
    return {str(i.get("name")): bool(i.get("security")) for i in items if isinstance(i, dict)}


def updates_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    before, after = _pending(old), _pending(new)
    old_u, new_u = old.get("updates") or {}, new.get("updates") or {}
    return {
        "pending": [old_u.get("pending"), new_u.get("pending")],
        "security": [old_u.get("security"), new_u.get("security")],
        "new": [{"name": n, "security": after[n]} for n in sorted(after.keys() - before.keys())],
        "gone": [{"name": n, "security": before[n]} for n in sorted(before.keys() - after.keys())],
    }


def _disks(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(d.get("mount")): d for d in record.get("disks") or [] if isinstance(d, dict)}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def disks_diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    before, after = _disks(old), _disks(new)
    out: list[dict[str, Any]] = []
    for mount in sorted(before.keys() | after.keys()):
        a, b = before.get(mount), after.get(mount)
        if a is None or b is None:
            out.append({"mount": mount, "change": "added" if a is None else "removed"})
            continue
        free_a, free_b, size = _number(a.get("free_mb")), _number(b.get("free_mb")), _number(b.get("size_mb"))
        if free_a is None or free_b is None:
            continue
        moved = free_b - free_a
        if abs(moved) < max(DISK_NOISE_MB, (size or 0) * DISK_NOISE_SHARE) and a.get("used_pct") == b.get("used_pct"):
            continue
        out.append(
            {
                "mount": mount,
                "change": "filling" if moved < 0 else "freed",
                "free_mb": [int(free_a), int(free_b)],
                "used_pct": [a.get("used_pct"), b.get("used_pct")],
                "size_mb": b.get("size_mb"),
            }
        )
    return out


def _services(record: dict[str, Any]) -> dict[str, str]:
    return {str(s.get("name")): str(s.get("state")) for s in record.get("services") or [] if isinstance(s, dict)}


def services_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    before, after = _services(old), _services(new)
    out: dict[str, list[Any]] = {"started": [], "stopped": [], "failed": [], "changed": []}
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name, "absent"), after.get(name, "absent")
        if a == b:
            continue
        if b == "running":
            out["started"].append(name)
        elif b == "failed":
            out["failed"].append(name)
        elif a == "running":
            out["stopped"].append(name)
        else:
            out["changed"].append({"name": name, "from": a, "to": b})
    return out


def _deviations(record: dict[str, Any]) -> set[tuple[str, str]]:
    compliance = record.get("compliance") or {}
    return {
        (str(d.get("policy")), str(d.get("detail", "")))
        for d in compliance.get("deviations") or []
        if isinstance(d, dict)
    }


def compliance_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    before, after = _deviations(old), _deviations(new)
    return {
        "checked": [(old.get("compliance") or {}).get("run_id"), (new.get("compliance") or {}).get("run_id")],
        "new": [{"policy": p, "detail": d} for p, d in sorted(after - before)],
        "resolved": [{"policy": p, "detail": d} for p, d in sorted(before - after)],
    }


def uptime_diff(old: dict[str, Any], old_at: str, new: dict[str, Any], new_at: str) -> dict[str, Any]:
    """Reset when the host's boot time (collected minus uptime) moved on: it rebooted in between."""
    up_a, up_b = _number(old.get("uptime_seconds")), _number(new.get("uptime_seconds"))
    at_a, at_b = _when(old_at), _when(new_at)
    if up_a is None or up_b is None or at_a is None or at_b is None:
        return {"reset": False, "uptime_seconds": [up_a, up_b]}
    boot_a, boot_b = at_a.timestamp() - up_a, at_b.timestamp() - up_b
    return {"reset": boot_b - boot_a > BOOT_SLACK_SECONDS, "uptime_seconds": [int(up_a), int(up_b)]}


def os_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    a, b = old.get("os") or {}, new.get("os") or {}
    return {key: [a.get(key), b.get(key)] for key in ("distribution", "version", "kernel") if a.get(key) != b.get(key)}


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Changes between two versions (``{run_id, collected, record}``), older first."""
    a, b = old.get("record") or {}, new.get("record") or {}
    return {
        "from": {"run_id": old.get("run_id"), "collected": old.get("collected")},
        "to": {"run_id": new.get("run_id"), "collected": new.get("collected")},
        "packages": packages_diff(a, b),
        "updates": updates_diff(a, b),
        "disks": disks_diff(a, b),
        "services": services_diff(a, b),
        "compliance": compliance_diff(a, b),
        "uptime": uptime_diff(a, str(old.get("collected")), b, str(new.get("collected"))),
        "os": os_diff(a, b),
    }


def change_count(changes: dict[str, Any]) -> int:
    """How many separate changes a diff holds (0: nothing changed)."""
    packages, updates, services = changes["packages"], changes["updates"], changes["services"]
    return (
        sum(len(v) for v in packages.values())
        + len(updates["new"])
        + len(updates["gone"])
        + len(changes["disks"])
        + sum(len(v) for v in services.values())
        + len(changes["compliance"]["new"])
        + len(changes["compliance"]["resolved"])
        + int(changes["uptime"]["reset"])
        + len(changes["os"])
    )


def render(changes: dict[str, Any], limit: int = 50) -> list[str]:
    """One line per change, grouped; at most ``limit`` lines per group (the rest counted)."""
    lines: list[str] = []

    def group(title: str, items: list[str]) -> None:
        if items:
            lines.append(f"{title}:")
            lines.extend(f"   {item}" for item in items[:limit])
            if len(items) > limit:
                lines.append(f"   ... and {len(items) - limit} more")

    packages = changes["packages"]
    group(
        "packages",
        [f"+ {p['name']} {p['version']}" for p in packages["added"]]
        + [f"- {p['name']} {p['version']}" for p in packages["removed"]]
        + [f"~ {p['name']} {p['from']} -> {p['to']}" for p in packages["changed"]],
    )
    updates = changes["updates"]
    counts = []
    if updates["pending"][0] != updates["pending"][1] or updates["security"][0] != updates["security"][1]:
        counts.append(
            f"pending {updates['pending'][0]} -> {updates['pending'][1]}, "
            f"security {updates['security'][0]} -> {updates['security'][1]}"
        )
    group(
        "pending updates",
        counts
        + [f"+ {u['name']}{' (security)' if u['security'] else ''}" for u in updates["new"]]
        + [f"- {u['name']}{' (security)' if u['security'] else ''}" for u in updates["gone"]],
    )
    group("disks", [_disk_line(d) for d in changes["disks"]])
    services = changes["services"]
    group(
        "services",
        [f"started {n}" for n in services["started"]]
        + [f"stopped {n}" for n in services["stopped"]]
        + [f"FAILED {n}" for n in services["failed"]]
        + [f"{c['name']} {c['from']} -> {c['to']}" for c in services["changed"]],
    )
    compliance = changes["compliance"]
    group(
        "policy drift",
        [f"out of policy: {d['policy']}: {d['detail']}" for d in compliance["new"]]
        + [f"back in policy: {d['policy']}" for d in compliance["resolved"]],
    )
    if changes["uptime"]["reset"]:
        lines.append("uptime: reset (the host rebooted since the earlier inspection)")
    group("os", [f"{k} {v[0]} -> {v[1]}" for k, v in changes["os"].items()])
    return lines


def _disk_line(disk: dict[str, Any]) -> str:
    if disk["change"] in ("added", "removed"):
        return f"{disk['mount']} {disk['change']}"
    free, used = disk["free_mb"], disk["used_pct"]
    return (
        f"{disk['mount']} {disk['change']}: free {free[0]} -> {free[1]} MB ({free[1] - free[0]:+d} MB),"
        f" used {used[0]}% -> {used[1]}%"
    )
