"""A run's judgement as a message: what happened to each host, not a link to it.

``judgement`` reads a ``RunRecord`` (host text is untrusted: it is only ever copied as
data); ``redact`` replaces every secret value known to this process; ``render`` makes
the text for one sink: plain text for mail, markdown for the chat bots, strict JSON
for webhooks. Every value passes ``safe_text`` (or strict JSON) on the way out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccops.text import strict_json
from ccops.text.safe_text import markdown_cell, visible
from ccops.verbs import recorded_verb

if TYPE_CHECKING:
    from ccops.store.records import RunRecord

FAILED_STATUSES = ("failed", "error", "interrupted", "damaged")
UNKNOWN_OUTCOMES = ("unknown", "not run", "damaged")
ROLLED_BACK = ("rolled_back", "rollback_incomplete")
BACKUP_FIELDS = ("backup_before", "backup_after", "final_backup", "backup")
MAX_LISTED = 200  # per section: a message stays readable for a fleet-wide run
REDACTED = "<redacted by ccops>"


def events_of(record: RunRecord) -> set[str]:
    """The events a finished run raises: its status, and refusals and rollbacks among its hosts."""
    events: set[str] = set()
    if record.status == "succeeded":
        events.add("succeeded")
    elif record.status == "halted":
        events.add("halted")
    elif record.status in FAILED_STATUSES:
        events.add("failed")
    elif record.status in ("refused", "nothing_done"):  # a firing that never started, or every host refused
        events.add("refused")
    for host in record.hosts:
        report = _report(host)
        if host.get("outcome") == "refused":
            events.add("refused")
        if report.get("outcome") in ROLLED_BACK or isinstance(report.get("rollback"), dict):
            events.add("rolled_back")
    if (verb := recorded_verb(record.verb)) and verb.restores and record.status == "succeeded":
        events.add("rolled_back")
    return events


def judgement(record: RunRecord, site_of: dict[str, str], sites: set[str] | None = None) -> dict[str, Any]:
    """The run's verdict for the hosts of ``sites`` (None: every host)."""
    hosts = [h for h in record.hosts if sites is None or site_of.get(str(h.get("host"))) in sites]
    out: dict[str, Any] = {
        "run": record.id,
        "verb": record.verb,
        "status": record.status,
        "change_id": record.change_id,
        "operator": record.operator,
        "started": record.started,
        "ended": record.ended,
        "summary": record.message,
        "events": sorted(events_of(record)),
        "sites": sorted({site_of[str(h.get("host"))] for h in hosts if str(h.get("host")) in site_of}),
        "hosts": [],
        "refused": [],
        "backups": [],
        "packages": [],
        "rollbacks": [],
        "unknown": [],
    }
    for host in hosts:
        name = host.get("host")
        report = _report(host)
        reason = report.get("reason") or host.get("message")
        out["hosts"].append({"host": name, "outcome": host.get("outcome"), "reason": reason})
        if host.get("outcome") == "refused":
            out["refused"].append({"host": name, "reason": reason})
        if host.get("outcome") in UNKNOWN_OUTCOMES:
            out["unknown"].append({"host": name, "outcome": host.get("outcome"), "reason": reason})
        for phase in BACKUP_FIELDS:
            backup = report.get(phase)
            if isinstance(backup, dict) and backup.get("id"):
                out["backups"].append(
                    {"host": name, "phase": phase, "id": backup.get("id"), "sha256": backup.get("sha256")}
                )
        out["packages"] += _packages(name, report)
        rollback = report.get("rollback")
        if report.get("outcome") in ROLLED_BACK or isinstance(rollback, dict):
            backup_id = rollback.get("id") if isinstance(rollback, dict) else None
            out["rollbacks"].append(
                {"host": name, "backup": backup_id, "reason": reason, "outcome": report.get("outcome")}
            )
    for key in ("hosts", "refused", "backups", "packages", "rollbacks", "unknown"):
        if len(out[key]) > MAX_LISTED:
            out[f"{key}_not_listed"] = len(out[key]) - MAX_LISTED
            out[key] = out[key][:MAX_LISTED]
    return out


def _report(host: dict[str, Any]) -> dict[str, Any]:
    report = host.get("report")
    return report if isinstance(report, dict) else {}


def _packages(name: Any, report: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    changed = report.get("packages_changed")
    if isinstance(changed, dict):
        for kind in ("changed", "added", "removed"):
            for package, change in sorted((changed.get(kind) or {}).items()):
                out.append({"host": name, "package": package, "change": f"{kind}: {change}"})
    for change in report.get("changes") or []:  # software: {app, action, from, to}
        if isinstance(change, dict):
            text = f"{change.get('action')}: {change.get('from') or '-'} -> {change.get('to') or '-'}"
            out.append({"host": name, "package": change.get("app"), "change": text})
    return out


def redact(data: Any, secrets: set[str]) -> Any:
    """``data`` with every secret value replaced wherever it appears (keys too)."""
    values = sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)  # shorter ones would redact words
    if not values:
        return data

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            for secret in values:
                value = value.replace(secret, REDACTED)
            return value
        if isinstance(value, dict):
            return {scrub(k): scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    return scrub(data)


def title_of(doc: dict[str, Any]) -> str:
    if doc.get("kind") in ("digest", "test", "undelivered"):
        return visible(doc.get("title"))
    return visible(f"ccops {doc.get('verb')} {doc.get('run')}: {doc.get('status')}")


def render(doc: dict[str, Any], form: str) -> str:
    """The message body for a sink: ``text`` (mail), ``markdown`` (chat bots) or ``json`` (webhooks)."""
    if form == "json":
        return strict_json.dumps(doc, indent=None)
    cell = markdown_cell if form == "markdown" else visible
    lines = _head(doc, cell, form)
    if doc.get("kind") in ("digest", "test", "undelivered"):
        lines += [_item(form, cell(line)) for line in doc.get("lines", [])]
        return "\n".join(lines) + "\n"
    sections = (
        ("Hosts", "hosts", ("host", "outcome", "reason")),
        ("Refused", "refused", ("host", "reason")),
        ("Backups taken", "backups", ("host", "phase", "id", "sha256")),
        ("Packages changed", "packages", ("host", "package", "change")),
        ("Rolled back", "rollbacks", ("host", "outcome", "backup", "reason")),
        ("Left unknown", "unknown", ("host", "outcome", "reason")),
    )
    for heading, key, fields in sections:
        rows = doc.get(key) or []
        if not rows:
            continue
        lines += ["", f"**{heading}** ({len(rows)})" if form == "markdown" else f"{heading} ({len(rows)}):"]
        lines += [
            _item(form, " | ".join(f"{f}: {cell(row.get(f))}" for f in fields if row.get(f) is not None))
            for row in rows
        ]
        if doc.get(f"{key}_not_listed"):
            lines.append(_item(form, f"... and {doc[f'{key}_not_listed']} more"))
    return "\n".join(lines) + "\n"


def _head(doc: dict[str, Any], cell: Any, form: str) -> list[str]:
    title = title_of(doc)
    lines = [f"## {markdown_cell(title)}" if form == "markdown" else title]
    for label, key in (
        ("change", "change_id"),
        ("operator", "operator"),
        ("started", "started"),
        ("ended", "ended"),
        ("summary", "summary"),
    ):
        if doc.get(key):
            lines.append(_item(form, f"{label}: {cell(doc[key])}"))
    if doc.get("sites"):
        lines.append(_item(form, f"sites: {cell(', '.join(doc['sites']))}"))
    return lines


def _item(form: str, text: str) -> str:
    return f"- {text}" if form == "markdown" else f"  {text}"
