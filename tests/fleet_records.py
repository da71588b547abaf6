"""Records of a small fleet written through the store's own API: inspections, comply and patch runs."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from ccops.store import records
from ccops.store.records import Store

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


SITE = """\
site:
  code: {code}
  name: {name}
  city: testcity
  timezone: UTC
{risk}connections:
  linux: {{type: ssh, user: ccops, become: true}}
groups:
  - name: agents
    role: agent_desktop
    os: {os}
    business_line: voice
    connection: linux
    hosts: {code}-t[01:{count:02d}]
    addresses: {address}
  - name: old
    role: file_server
    os: debian11
    business_line: back_office
    connection: linux
    lifecycle: retired
    hosts: {code}-old01
"""


def days_ago(days: float) -> str:
    """A collection time relative to now, so risk ages are the same whenever the tests run."""
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def site_file(code: str, count: int, address: str, os: str = "debian12", name: str = "Centre", risk: str = "") -> str:
    block = f"  risk: {risk}\n" if risk else ""
    return SITE.format(code=code, count=count, address=address, os=os, name=name, risk=block)


def seed_fleet(store: Store, service: str = "cron.service", package: str = "openssl", detail: str = "loadable") -> None:
    """Two sites (aaa: 4 agents, bbb: 3) with a risk of every kind.

    aaa-t01 fine but overdue on security; aaa-t02 disk 95 % full and out of policy; aaa-t03 a failed
    service and a disk that grew from 40 to 70 % in a day; aaa-t04 and bbb-t03 never inspected;
    bbb-t02 patched; a halted patch run on bbb.
    """
    sec = {
        "pending": 2,
        "security": 1,
        "items": [
            {"name": package, "from": "1", "to": "2", "security": True},
            {"name": "tzdata", "from": "1", "to": "2", "security": False},
        ],
    }
    full = record(updates=sec, disks=[{"mount": "/", "size_mb": 10000, "free_mb": 500, "used_pct": 95}])
    grown = record(
        updates=sec,
        disks=[{"mount": "/", "size_mb": 10000, "free_mb": 3000, "used_pct": 70}],
        services=[{"name": service, "state": "failed", "status": "enabled"}],
    )
    inspect(
        store,
        "20261101T060000Z-aaaaaa",
        {"aaa-t01": record(updates=sec), "aaa-t02": record(updates=sec), "bbb-t01": record(updates=sec)},
        at=days_ago(22),
    )
    inspect(store, "20261121T060000Z-eeeeee", {"aaa-t03": record(updates=sec)}, at=days_ago(2))
    inspect(
        store,
        "20261122T060000Z-bbbbbb",
        {
            "aaa-t01": record(updates=sec),
            "aaa-t02": full,
            "aaa-t03": grown,
            "bbb-t01": record(updates=sec),
            "bbb-t02": record(updates={"pending": 0, "security": 0, "items": []}),
        },
        at=days_ago(1),
    )
    comply(
        store,
        "20261122T070000Z-cccccc",
        {"aaa-t01": [], "aaa-t02": [{"policy": "usb_storage", "detail": detail}], "bbb-t01": None},
    )
    start(store, "20261122T080000Z-dddddd", "patch")
    store.record_hosts(
        "20261122T080000Z-dddddd",
        [
            {"host": "bbb-t01", "outcome": "failed", "message": "health check failed"},
            {"host": "bbb-t02", "outcome": "ok"},
        ],
    )
    store.finish_run("20261122T080000Z-dddddd", "halted", 3, "halted before the next batch: canary failed")
