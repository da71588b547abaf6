"""Who approves a remediation snapshot: the operator (--approve, under the change id) or the site's rule.

``remediate: {auto_approve: {high: 2}}`` in a site file: a fix of that urgency (or a more urgent one
with a rule of its own) counts as approved once every chosen CVE's fix was first offered at least
that many days ago. The rule's approval is recorded in the snapshot's manifest and the run as the rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ccops.remediate.targets import Target
from ccops.report.reverted import stored_time


def rule_approval(site_rule: dict[str, Any], targets: list[Target], now: datetime) -> str | None:
    """The rule that approves every target, as recorded; None when the site's rules do not."""
    rules: dict[str, int] = site_rule.get("auto_approve") or {}
    if not targets or not rules:
        return None
    for target in targets:
        days = rules.get(target.urgency)
        seen = stored_time(target.first_seen) if target.first_seen else None
        if days is None or seen is None or now < seen + timedelta(days=days):
            return None
    used = sorted({t.urgency for t in targets})
    return "site rule remediate.auto_approve " + ", ".join(f"{u}={rules[u]}d" for u in used)


def approval_record(change_id: str, by: str, now: datetime, rule: str | None) -> dict[str, Any]:
    record = {"change_id": change_id, "by": by, "at": now.isoformat(timespec="seconds")}
    return record | ({"rule": rule} if rule else {})
