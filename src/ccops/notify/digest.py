"""The daily digest (the morning report's numbers, per site) and risks new since the last digest."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccops.notify import outbox
from ccops.notify.outbox import Message
from ccops.notify.send import queue_fleet
from ccops.text import strict_json

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.store.records import Store

SEEN_NAME = "risks-seen.json"


def site_lines(summary: dict[str, Any]) -> list[str]:
    p, c = summary["patches"], summary["compliance"]
    return [
        f"{summary['code']}: {summary['hosts']} hosts, {summary['watched']} watched, {summary['inspected']} inspected",
        f"{summary['code']}: compliance {c['in policy']} in policy, {c['out of policy']} out of policy,"
        f" {c['never checked']} never checked",
        f"{summary['code']}: {p['pending_updates']} pending updates ({p['security_updates']} security)"
        f" on {p['hosts_with_pending']} hosts; {p['hosts_overdue']} hosts overdue",
        f"{summary['code']}: {summary['risks']} risks",
    ]


def _key(risk: dict[str, Any]) -> str:
    return hashlib.sha256(
        strict_json.dumps([risk.get(k) for k in ("site", "host", "kind", "detail")], None).encode()
    ).hexdigest()


def queue_digest(inventory: Inventory, store: Store, folder: Path | None = None) -> list[Message]:
    """Queue the digest and, separately, the risks not seen by the previous digest."""
    from ccops.report.morning import build_report
    from ccops.report.risks import load_state
    from ccops.vulns.risks import with_vulns

    report = build_report(inventory, with_vulns(load_state(store), inventory, store))
    by_site: dict[str | None, list[str]] = {s["code"]: site_lines(s) for s in report["sites"]}
    totals = report["totals"]
    by_site[None] = [
        f"fleet: {totals['hosts']} hosts, {totals['risks']} risks, {totals['hosts_overdue']} hosts overdue"
    ]
    queued = queue_fleet(inventory.root, "digest", f"ccops daily digest {report['generated']}", by_site, folder)
    told = outbox.read_state(SEEN_NAME)
    seen = {str(k) for k in told} if isinstance(told, list) else set()
    new: dict[str | None, list[str]] = {}
    for risk in report["risks"]:
        if _key(risk) not in seen:
            where = risk.get("host") or risk.get("site") or "fleet"
            new.setdefault(risk.get("site"), []).append(f"{where}: {risk['kind']}: {risk['detail']}")
    if new:
        queued += queue_fleet(inventory.root, "new_risks", "ccops: new risks", new, folder)
    outbox.write_state(SEEN_NAME, sorted(_key(r) for r in report["risks"]))
    return queued
