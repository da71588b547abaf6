"""A two-site inventory with notify.yml, and a patch run record with every kind of host result."""

from __future__ import annotations

import textwrap
from pathlib import Path

from ccops.store.records import RunRecord, Store
from tests.conftest import SITE, write_inventory

HOSTILE = "evil\x1b]52;c;aGk=\x07 | <!-- [x](http://e.test) **b** \u202e"
SECRET = "s3cr3t-HOOK-value"
WECOM_KEY = "0123456789abcdef-wecom-key"


def inventory(folder: Path, rules: str) -> Path:
    root = write_inventory(
        folder,
        {
            "aaa.yml": SITE.format(code="aaa", count=2, address="10.9.0.1"),
            "bbb.yml": SITE.format(code="bbb", count=2, address="10.9.1.1"),
        },
    )
    (root / "notify.yml").write_text(textwrap.dedent(rules))
    return root


def patch_hosts() -> list[dict]:
    backup = {"id": "aaa-t01-20261207-before", "sha256": "ab" * 32, "size": 10, "verified": True, "paths": []}
    return [
        {
            "host": "aaa-t01",
            "outcome": "ok",
            "changed": True,
            "message": None,
            "wave": "canary",
            "report": {
                "outcome": "patched",
                "reason": "2 updates",
                "backup_before": backup,
                "packages_changed": {"changed": {"openssl": "3.0.1 -> 3.0.2"}, "added": {}, "removed": {}},
            },
        },
        {
            "host": "aaa-t02",
            "outcome": "rescued",
            "changed": True,
            "message": None,
            "wave": "canary",
            "report": {
                "outcome": "rolled_back",
                "reason": f"health check failed: {HOSTILE}",
                "rollback": {"id": "aaa-t02-20261207-before", "packages_returned": [], "paths": []},
            },
        },
        {
            "host": "bbb-t01",
            "outcome": "refused",
            "changed": False,
            "message": "seat busy: agent on a call",
            "wave": "50%",
            "report": {"outcome": "refused", "reason": f"seat busy ({SECRET})"},
        },
        {
            "host": "bbb-t02",
            "outcome": "unknown",
            "changed": False,
            "message": "no result",
            "wave": "50%",
            "report": None,
        },
    ]


def record(inv: Path, status: str = "failed", hosts: list[dict] | None = None) -> RunRecord:
    return RunRecord(
        id="20261207T101500-abcd1234",
        verb="patch",
        operator="op",
        change_id="CHG-7",
        git_commit=None,
        inventory=str(inv),
        inventory_sha256="0" * 64,
        selectors={},
        started="2026-12-07T10:15:00+00:00",
        ended="2026-12-07T10:40:00+00:00",
        status=status,
        exit_code=2,
        message="failed=0, ok=1",
        request={},
        plan={},
        pid=None,
        hosts=patch_hosts() if hosts is None else hosts,
    )


def stored_run(store: Store, inv: Path, run_id: str = "20261207T101500-abcd1234", status: str = "failed") -> str:
    store.start_run(
        run_id,
        "patch",
        operator="op",
        change_id="CHG-7",
        git_commit=None,
        inventory=str(inv),
        inventory_sha256="0" * 64,
        selectors={"sites": ["aaa", "bbb"]},
        request={"verb": "patch"},
        plan=[],
    )
    store.record_hosts(run_id, patch_hosts())
    store.finish_run(run_id, status, 2, "done")
    return run_id
