"""Route, queue and deliver: a run's end, ``ccops notify send|flush|test|digest``, the age risk."""

from __future__ import annotations

import contextlib
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccops.errors import CcopsError
from ccops.notify import outbox
from ccops.notify.channels import FORMATS, DeliveryError, Outgoing, deliver, read_secret
from ccops.notify.message import events_of, judgement, redact, render, title_of
from ccops.notify.outbox import Message
from ccops.notify.rules import Rules, load_rules, rules_path
from ccops.notify.wiring import install
from ccops.text.safe_text import visible
from ccops.verbs import recorded_verb

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.report.reverted import Finding
    from ccops.store.records import RunRecord, Store

# names that look like secrets are kept out of messages whatever declares them (as in artifacts)
REVERTED_TOLD = "reverted-told.json"  # per inventory: each reverted host and the packages it was told about
SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|CREDENTIAL|VAULT|PRIVATE_KEY", re.IGNORECASE)
MAX_ERROR = 500


def secret_values(inventory: Inventory | None, rules: Rules) -> set[str]:
    """Every secret value this process could leak: inventory secrets, channel secrets, secret-named variables."""
    from ccops.run.execute import secret_env_names

    names = {k for k in os.environ if SECRET_NAME.search(k)}
    if inventory is not None:
        names |= secret_env_names(inventory)
    values = {os.environ[n] for n in names if os.environ.get(n)}
    for channel in rules.channels.values():
        for key, ref in channel.settings.items():
            if isinstance(ref, dict):
                with contextlib.suppress(CcopsError):
                    values.add(read_secret(ref, rules.root, key) or "")
    return {v for v in values if v}


def _inventory(path: str) -> Inventory | None:
    from ccops.inventory.load import check_inventory

    inventory, problems = check_inventory(Path(path))
    return None if problems else inventory


def channel_sites(rules: Rules, events: set[str], sites: set[str]) -> dict[str, set[str] | None]:
    """Each channel that hears these events, with the sites whose hosts it is told about (None: all)."""
    out: dict[str, set[str] | None] = {}
    for rule in rules.rules:
        if not events & set(rule.events):
            continue
        for name in rule.channels:
            if rule.sites is None:
                out[name] = None
            elif out.get(name, set()) is not None:
                covered = sites & set(rule.sites)
                if covered:
                    out[name] = (out.get(name) or set()) | covered
    return out


def queue_run(record: RunRecord, folder: Path | None = None) -> list[Message]:
    """Put the run's report for every channel its rules name in the outbox."""
    inventory = _inventory(record.inventory)
    rules = load_rules(Path(record.inventory), set(inventory.sites) if inventory else None)
    site_of = {h.name: h.site for h in inventory.hosts.values()} if inventory else {}
    events = events_of(record)
    run_sites = {site_of[str(h.get("host"))] for h in record.hosts if str(h.get("host")) in site_of}
    if not record.hosts:  # a refused firing touched no host: the sites it was for are its selection's
        run_sites = {str(s) for s in record.selectors.get("sites") or [] if inventory and s in inventory.sites}
    secrets = secret_values(inventory, rules)
    queued = []
    for name, sites in sorted(channel_sites(rules, events, run_sites).items()):
        doc = redact({"kind": "run", **judgement(record, site_of, sites)}, secrets)
        queued.append(_queue(rules, record.inventory, name, record.id, sorted(events), doc, folder))
    return queued


def _queue(
    rules: Rules,
    inventory: str,
    name: str,
    run_id: str | None,
    events: list[str],
    doc: dict[str, Any],
    folder: Path | None,
) -> Message:
    form = FORMATS[rules.channels[name].kind]
    message = Message.new(
        channel=name,
        inventory=inventory,
        run_id=run_id,
        events=events,
        title=title_of(doc),
        body=render(doc, form),
        form=form,
        risk_hours=rules.undelivered_risk_hours,
    )
    outbox.write(message, folder)
    return message


def queue_fleet(
    inventory_path: Path, kind: str, title: str, lines_by_site: dict[str | None, list[str]], folder: Path | None = None
) -> list[Message]:
    """A fleet message (digest, new risks): each channel gets the lines of the sites its rules cover."""
    inventory = _inventory(str(inventory_path))
    rules = load_rules(inventory_path, set(inventory.sites) if inventory else None)
    secrets = secret_values(inventory, rules)
    queued = []
    sites = {s for s in lines_by_site if s is not None}
    for name, covered in sorted(channel_sites(rules, {kind}, sites).items()):
        lines = [
            line
            for site, site_lines in lines_by_site.items()
            if covered is None or site is None or site in covered
            for line in site_lines
        ]
        doc = redact({"kind": "digest", "title": title, "event": kind, "lines": lines}, secrets)
        queued.append(_queue(rules, str(inventory_path), name, None, [kind], doc, folder))
    return queued


def queue_reverted(store: Store, record: RunRecord, folder: Path | None = None) -> list[Message]:
    """An inspection found approved packages taken back (ccops.report.reverted): hosts per site, to ``reverted``."""
    from ccops.report.reverted import REVERTED, findings

    inventory = _inventory(record.inventory)
    site_of = {h.name: h.site for h in inventory.hosts.values()} if inventory else {}
    inspected = [str(h.get("host")) for h in record.hosts if h.get("outcome") == "ok"]
    found = [f for f in findings(store, inspected) if f.kind == REVERTED and f.inspected == record.id]
    found = _not_told(record.inventory, inspected, found)
    lines: dict[str | None, list[str]] = {}
    for finding in found:
        lines.setdefault(site_of.get(finding.host), []).append(f"{finding.host}: {finding.detail}")
    if not lines:
        return []
    title = f"ccops: approved packages taken back on {len(found)} host(s)"
    return queue_fleet(Path(record.inventory), REVERTED, title, lines, folder)


def _not_told(inventory: str, inspected: list[str], found: list[Finding]) -> list[Finding]:
    """The findings not already told: a host is told once per set of taken-back packages, again once it changes.

    A host inspected without a finding is forgotten, so taking the packages back a second time is news.
    """
    told = outbox.read_state(REVERTED_TOLD)
    told = told if isinstance(told, dict) else {}
    known = told.get(inventory)
    mine: dict[str, str] = known if isinstance(known, dict) else {}
    now = {f.host: json.dumps(sorted(json.dumps(p, sort_keys=True) for p in f.packages)) for f in found}
    fresh = [f for f in found if mine.get(f.host) != now[f.host]]
    told[inventory] = {h: k for h, k in mine.items() if h not in inspected} | now
    outbox.write_state(REVERTED_TOLD, told)
    return fresh


def flush(store: Store, folder: Path | None = None) -> tuple[int, list[Message]]:
    """Try every pending message once; returns (delivered, still pending). Never raises for a channel."""
    delivered, left = 0, []
    with outbox.flushing(folder) as mine:
        if not mine:  # another flush is delivering these right now
            return 0, outbox.pending(folder)
        rules_cache: dict[str, Rules | CcopsError] = {}
        down: set[tuple[str, str]] = set()  # a channel that just failed is not tried again in this flush
        for message in outbox.pending(folder):
            if (message.inventory, message.channel) in down:
                left.append(message)
                continue
            gone = _channel_gone(message, rules_cache)
            if gone is not None:  # the operator took the channel out: the message goes, its end is recorded
                outbox.record_attempt(store, message, gone)
                outbox.remove(message, folder)
                continue
            error = _try(message, rules_cache)
            if error is not None:
                down.add((message.inventory, message.channel))
            outbox.record_attempt(store, message, error)
            if error is None:
                outbox.remove(message, folder)
                delivered += 1
                continue
            message.attempts += 1
            message.last_error, message.last_attempt = error, outbox.now_text()
            outbox.write(message, folder)
            left.append(message)
    return delivered, left


def _rules(message: Message, cache: dict[str, Rules | CcopsError]) -> Rules | CcopsError:
    if message.inventory not in cache:
        try:
            cache[message.inventory] = load_rules(Path(message.inventory))
        except CcopsError as exc:
            cache[message.inventory] = exc
    return cache[message.inventory]


def _channel_gone(message: Message, cache: dict[str, Rules | CcopsError]) -> str | None:
    """Why a message is dropped: its channel left a notify.yml that reads well (a broken file keeps it pending)."""
    rules = _rules(message, cache)
    if isinstance(rules, CcopsError) or message.channel in rules.channels:
        return None
    return visible(f"dropped: channel {message.channel} is no longer in notify.yml")[:MAX_ERROR]


def _try(message: Message, cache: dict[str, Rules | CcopsError]) -> str | None:
    rules = _rules(message, cache)
    if isinstance(rules, CcopsError):
        return visible(f"{message.inventory}: notify.yml cannot be read")[:MAX_ERROR]
    channel = rules.channels[message.channel]  # _channel_gone let only declared channels through
    try:
        deliver(channel, rules.root, Outgoing(message.title, message.body, message.form))
    except DeliveryError as exc:
        return visible(str(exc))[:MAX_ERROR]
    except Exception as exc:  # a library's surprise must not lose the message
        return visible(f"channel {channel.name}: {type(exc).__name__}")[:MAX_ERROR]
    return None


def notify_run_end(store: Store, run_id: str) -> None:
    """The run's end: queue its report by the rules and try to deliver. Never fails the run."""
    try:
        record = store.run(run_id)
        if record is not None and rules_path(Path(record.inventory)).exists():
            queue_run(record)
            if (verb := recorded_verb(record.verb)) and verb.inspects:
                queue_reverted(store, record)
        if outbox.pending():
            flush(store)
    except Exception as exc:  # a notification problem never changes the result
        with contextlib.suppress(Exception):
            outbox_note(f"run {run_id}: report not queued: {visible(str(exc))[:MAX_ERROR]}")


def outbox_note(line: str) -> None:
    """A problem with no message to carry it: kept next to the outbox for ``ccops notify status``."""
    path = outbox.notify_dir() / "problems.log"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"at": outbox.now_text(), "problem": line}) + "\n")


def undelivered_risks(now: datetime | None = None, folder: Path | None = None) -> list[dict[str, Any]]:
    """A risk for every message still undelivered after its threshold (notify.yml's undelivered_risk_hours)."""
    now = now or datetime.now(UTC)
    out = []
    for message in outbox.pending(folder):
        try:
            created = datetime.fromisoformat(message.created)
        except (TypeError, ValueError):
            continue
        if now - created >= timedelta(hours=message.risk_hours):
            what = f"run {message.run_id}" if message.run_id else ", ".join(message.events)
            detail = (
                f"report of {what} to channel {message.channel} undelivered since {message.created}"
                f" ({message.attempts} attempt(s); last: {message.last_error or 'none yet'})"
            )
            out.append(
                {
                    "site": None,
                    "host": None,
                    "kind": "notify_undelivered",
                    "detail": visible(detail),
                    "message": message.id,
                }
            )
    return out


# every run's end is told, and fleet views (ccops risks, report, the digest) list the undelivered
# reports, through ccops.hooks: run/ and report/ never import notify (notify/wiring.py)
install()
