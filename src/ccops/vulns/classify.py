"""Per host and CVE: fixable, fixed, no fix yet or not affected, from changelogs, installed versions and the tracker.

Changelogs: each snapshot of the host's site recorded what the host had (``from``) and what the
snapshot holds for its release. A CVE named by a changelog entry above ``from`` and at most the
snapshot's version is one the snapshot fixes on that host; its fixing version is the oldest such
entry naming it, its urgency that entry's, its age counted from the first snapshot that offered it.
The host's newest inspection then decides: installed at least the fixing version is ``fixed``
(proved by the installed version only), lower is ``fixable``.

Tracker (when imported for the site): per source package installed on the host (a binary of the
same name, or a binary a snapshot showed to come from it) and the host's release, ``no_fix_yet``
(open or undetermined) and ``not_affected`` (fixed version "0"); a fix the tracker knows that no
snapshot holds yet is ``fixable`` without a snapshot. CVEs the installed version already fixed
long ago are not listed from the tracker: only those a snapshot offered are followed to ``fixed``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ccops.report.reverted import BadVersion, compare, stored_time
from ccops.vulns.changelog import Entry
from ccops.vulns.snapshot_logs import SnapshotLogs
from ccops.vulns.tracker import NOT_AFFECTED, Tracker

FIXABLE, FIXED, NO_FIX_YET, NOT_AFFECTED_STATE, DAMAGED = "fixable", "fixed", "no_fix_yet", "not_affected", "damaged"
STATES = (FIXABLE, NO_FIX_YET, FIXED, NOT_AFFECTED_STATE, DAMAGED)
# most urgent first; the tracker's own words after Debian's changelog urgencies
URGENCY_ORDER = (
    "critical",
    "emergency",
    "high",
    "medium",
    "low",
    "unimportant",
    "not yet assigned",
    "end-of-life",
    "unknown",
)


@dataclass
class Row:
    host: str
    site: str
    cve: str  # "" on a damaged row: the package's data could not be read
    state: str
    urgency: str
    package: str
    installed: str | None
    fixing: str | None  # the first version that fixes it
    snapshot: str | None  # the newest snapshot holding the fix
    first_seen: str | None  # when a snapshot first offered the fix to this host
    age_days: float | None
    origin: str  # "changelog" or "tracker"
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Offer:
    fixing: str
    urgency: str
    snapshot: str
    first_seen: str


@dataclass
class HostFacts:
    name: str
    site: str
    installed: dict[str, str]  # binary package -> version, from the newest asset record
    release: str | None  # the codename the tracker names releases by
    sources: dict[str, str] = field(default_factory=dict)  # binary -> source, where the asset record names them


def classify(
    host: HostFacts,
    snapshots: list[tuple[dict[str, Any], SnapshotLogs]],
    tracker: Tracker,
    now: datetime,
) -> list[Row]:
    offers: dict[tuple[str, str], _Offer] = {}
    damaged: dict[str, str] = {}
    sources = dict(host.sources)  # binary -> source: the host's record, then the snapshots'
    for manifest, logs in snapshots:  # oldest first
        sources |= {name: log.source for name, log in logs.packages.items() if log.source}
        _offers(host, manifest, logs, offers, damaged)
    rows = [_damaged(host, package, why) for package, why in sorted(damaged.items())]
    for (cve, package), offer in sorted(offers.items()):
        if package in host.installed:  # a package removed since carries none of its CVEs (nor proves a fix)
            rows.append(_judged(host, cve, package, offer, now))
    covered = {(cve, sources.get(package, package)) for cve, package in offers}
    rows += _from_tracker(host, tracker, sources, covered)
    return rows


def _offers(
    host: HostFacts,
    manifest: dict[str, Any],
    logs: SnapshotLogs,
    offers: dict[tuple[str, str], _Offer],
    damaged: dict[str, str],
) -> None:
    mine = (manifest.get("hosts") or {}).get(host.name)
    if not isinstance(mine, dict):
        return
    held = ((manifest.get("releases") or {}).get(mine.get("release")) or {}).get("packages") or {}
    for package, change in sorted((mine.get("packages") or {}).items()):
        had, holds = str(change.get("from") or ""), str(held.get(package) or change.get("to") or "")
        if not had or not holds:
            continue  # a new package an update pulls in fixes nothing the host had
        entries, why = logs.log_of(package)
        if entries is None:
            damaged[package] = why
            continue
        damaged.pop(package, None)  # a newer snapshot read well: its data stands
        for entry in _between(entries, had, holds):
            for cve in entry.cves:
                _offer(offers, (cve, package), entry, str(manifest.get("id")), str(manifest.get("created")))


def _between(entries: list[Entry], low: str, high: str) -> list[Entry]:
    """Entries above ``low`` and at most ``high``, oldest first."""
    try:
        chosen = [e for e in entries if compare(e.version, low) > 0 and compare(e.version, high) <= 0]
    except BadVersion:
        return []
    return sorted(chosen, key=_Key)


class _Key:
    """Debian version order as a sort key (every version was checked by the changelog parser)."""

    def __init__(self, entry: Entry) -> None:
        self.version = entry.version

    def __lt__(self, other: _Key) -> bool:
        return compare(self.version, other.version) < 0


def _offer(
    offers: dict[tuple[str, str], _Offer], key: tuple[str, str], entry: Entry, snapshot: str, created: str
) -> None:
    known = offers.get(key)
    if known is None:
        offers[key] = _Offer(entry.version, entry.urgency, snapshot, created)
        return
    known.snapshot = snapshot  # the newest snapshot holding it is the one to install from
    if compare(entry.version, known.fixing) < 0:
        known.fixing, known.urgency = entry.version, entry.urgency


def _judged(host: HostFacts, cve: str, package: str, offer: _Offer, now: datetime) -> Row:
    installed = host.installed[package]
    seen = stored_time(offer.first_seen)
    age = round((now - seen).total_seconds() / 86400, 1) if seen else None
    row = Row(
        host.name,
        host.site,
        cve,
        FIXABLE,
        offer.urgency,
        package,
        installed,
        offer.fixing,
        offer.snapshot,
        offer.first_seen,
        age,
        "changelog",
    )
    try:
        if compare(installed, offer.fixing) >= 0:
            row.state, row.age_days = FIXED, None
    except BadVersion:
        row.state, row.detail, row.age_days = DAMAGED, "the host reported a version dpkg would not accept", None
    return row


def _damaged(host: HostFacts, package: str, why: str) -> Row:
    return Row(
        host.name,
        host.site,
        "",
        DAMAGED,
        "unknown",
        package,
        host.installed.get(package),
        None,
        None,
        None,
        None,
        "changelog",
        why,
    )


def _from_tracker(
    host: HostFacts, tracker: Tracker, sources: dict[str, str], covered: set[tuple[str, str]]
) -> list[Row]:
    """covered: (CVE, source) pairs a snapshot's changelog already classified (the changelog wins)."""
    if not tracker or not host.release:
        return []
    by_source: dict[str, str] = {}  # source -> the installed binary shown for it
    for binary in sorted(host.installed):
        by_source.setdefault(sources.get(binary, binary), binary)
    rows = []
    for source, binary in sorted(by_source.items()):
        for cve, releases in sorted((tracker.get(source) or {}).items()):
            if (cve, source) in covered:
                continue
            status, fixed, urgency = releases.get(host.release, ("", "", ""))
            row = _tracker_row(host, cve, binary, status, fixed, urgency)
            if row is not None:
                rows.append(row)
    return rows


def _tracker_row(host: HostFacts, cve: str, binary: str, status: str, fixed: str, urgency: str) -> Row | None:
    installed = host.installed[binary]
    state = ""
    if fixed == NOT_AFFECTED:
        state = NOT_AFFECTED_STATE
    elif status in ("open", "undetermined") and not fixed:
        state = NO_FIX_YET
    elif fixed:
        try:
            state = FIXABLE if compare(installed, fixed) < 0 else ""
        except BadVersion:
            return Row(
                host.name,
                host.site,
                cve,
                DAMAGED,
                urgency,
                binary,
                installed,
                fixed,
                None,
                None,
                None,
                "tracker",
                "the host reported a version dpkg would not accept",
            )
    if not state:
        return None
    detail = "fixed in the archive; in no snapshot yet" if state == FIXABLE else ""
    return Row(
        host.name,
        host.site,
        cve,
        state,
        urgency,
        binary,
        installed,
        fixed if state == FIXABLE else None,
        None,
        None,
        None,
        "tracker",
        detail,
    )
