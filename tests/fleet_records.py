"""Records of a small fleet written through the store's own API: inspections, comply and patch runs."""

from __future__ import annotations

import copy
from typing import Any

from ccops import records
from ccops.records import Store

BASE: dict[str, Any] = {
    "os": {"distribution": "Debian", "version": "12", "variant": "debian12", "kernel": "6.1.0-1"},
    "hardware": {"cpus": 2, "memory_mb": 1987},
    "uptime_seconds": 86400,
    "packages": {"count": 3, "items": {"bash": "5.2-1", "openssl": "3.0.1-1", "vim": "9.0-1"}},
    "updates": {
        "pending": 2,
        "security": 1,
        "items": [
            {"name": "openssl", "from": "3.0.1-1", "to": "3.0.2-1", "security": True},
            {"name": "tzdata", "from": "2024a", "to": "2024b", "security": False},
        ],
    },
    "disks": [{"mount": "/", "size_mb": 10000, "free_mb": 6000, "used_pct": 40}],
    "services": [
        {"name": "ssh.service", "state": "running", "status": "enabled"},
        {"name": "cron.service", "state": "running", "status": "enabled"},
    ],
    "logs": [],
}


def record(**changes: Any) -> dict[str, Any]:
    """BASE with top-level keys replaced (deep-copied, so tests never share state)."""
    out = copy.deepcopy(BASE)
    out.update(copy.deepcopy(changes))
    return out


def start(store: Store, run_id: str, verb: str, inventory: str = "inv") -> None:
    store.start_run(
        run_id,
        verb,
        operator="test",
        change_id="CHG-1",
        git_commit=None,
        inventory=inventory,
        inventory_sha256="0" * 64,
        selectors={},
        request={},
        plan=[],
    )


def inspect(store: Store, run_id: str, reports: dict[str, dict[str, Any]], at: str | None = None) -> None:
    """An inspect run that saved these asset records; ``at`` fixes the time they were collected."""
    saved = records.now
    if at is not None:
        records.now = lambda: at
    try:
        start(store, run_id, "inspect")
        store.record_hosts(run_id, [{"host": h, "outcome": "ok", "report": {"outcome": "inspected"}} for h in reports])
        store.save_assets(run_id, reports)
        store.finish_run(run_id, "succeeded", 0)
    finally:
        records.now = saved


def comply(
    store: Store, run_id: str, deviations: dict[str, list[dict[str, str]] | None], status: str = "succeeded"
) -> None:
    """A comply run: per host its deviations (None: unreachable, no report), by the comply contract."""
    start(store, run_id, "comply")
    store.record_hosts(
        run_id,
        [
            {
                "host": h,
                "outcome": "unreachable" if d is None else "ok",
                "report": None if d is None else {"outcome": "checked", "reason": "", "deviations": d},
            }
            for h, d in deviations.items()
        ],
    )
    store.finish_run(run_id, status, 2 if status == "failed" else 0)
