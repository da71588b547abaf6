"""Patches the restore card (or a hand, or a re-applied image) took back: found from the records.

What a host should have is what the last successful changing runs that reached it left there
(patch: its ``versions_after`` and ``packages_changed``; software: its changes). A later
inspection that finds one of those packages at a lower version, or gone, with no ccops run
that changed the host in between, is a ``reverted`` finding naming the run, the packages
(expected and found) and the host's boot time. A rollback run, a run that rolled back, or any
other run that changed the host resets what is expected: ccops itself moved the packages.

Everything here is read from host reports and asset records, both untrusted: what does not
fit makes a ``damaged`` finding for that host, never an exception.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ccops.text.safe_text import visible
from ccops.verbs import recorded_verb

if TYPE_CHECKING:
    from ccops.inventory.model import Host, Inventory
    from ccops.store.records import RunRecord, Store

REVERTED = "reverted"
DAMAGED = "damaged"
OK_OUTCOMES = ("ok", "changed")
ROLLED_BACK = ("rolled_back", "rollback_incomplete")
UNTOUCHED = ("refused", "unreachable", "not run", "skipped")  # host outcomes of a run that never changed it
LOOK_BACK_DAYS = 400  # runs older than this are not read for the expectation
MAX_LISTED = 20  # packages named in one finding's detail

VERSION = re.compile(r"(?:(?P<epoch>[0-9]{1,9}):)?(?P<rest>[A-Za-z0-9.+~:-]{1,255})")


class BadVersion(ValueError):
    """A version string dpkg would not accept."""


def _split(version: str) -> tuple[int, str, str]:
    match = VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        raise BadVersion(f"not a Debian version: {version!r}"[:200])
    rest = match["rest"]
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, ""
    if not upstream or (dash and not revision) or (match["epoch"] is None and ":" in upstream):
        raise BadVersion(f"not a Debian version: {version!r}"[:200])
    return int(match["epoch"] or 0), upstream, revision


def _order(char: str) -> int:
    """dpkg's weight of one character of a non-digit run: ``~`` sorts before the end, letters before the rest."""
    if char == "~":
        return -1
    if char.isascii() and char.isalpha():
        return ord(char)
    return ord(char) + 256


def _part(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i, j = i + 1, j + 1
        start_a, start_b = i, j
        while i < len(a) and a[i].isdigit():
            i += 1
        while j < len(b) and b[j].isdigit():
            j += 1
        na, nb = int(a[start_a:i] or 0), int(b[start_b:j] or 0)
        if na != nb:
            return -1 if na < nb else 1
    return 0


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as Debian orders ``a`` and ``b`` (``dpkg --compare-versions``); BadVersion if one is not a version."""
    (ea, ua, ra), (eb, ub, rb) = _split(a), _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _part(ua, ub) or _part(ra, rb)


@dataclass
class Expected:
    version: str
    run_id: str
    verb: str


@dataclass
class Finding:
    host: str
    kind: str  # REVERTED or DAMAGED
    detail: str
    run_ids: list[str] = field(default_factory=list)
    packages: list[dict[str, str | None]] = field(default_factory=list)  # name, expected, found, run_id
    boot_time: str | None = None
    inspected: str | None = None  # the inspection's run id

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def stored_time(value: Any) -> datetime | None:
    """A time as the store keeps it (ISO text; without a zone it is UTC), or None when it cannot be read."""
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _patch_versions(report: dict[str, Any]) -> tuple[dict[str, str], set[str]]:
    """Versions a patch left (name -> version) and the packages it removed."""
    left: dict[str, str] = {}
    for name, version in (report.get("versions_after") or {}).items():
        if _text(version):
            left[name] = version
    changes = report.get("packages_changed") or {}
    for name, change in (changes.get("changed") or {}).items():
        new = change.rpartition(" -> ")[2] if isinstance(change, str) else None
        if _text(new):
            left[name] = str(new)
    for name, version in (changes.get("added") or {}).items():
        if _text(version):
            left[name] = version
    return left, set(changes.get("removed") or {})


def _software_versions(report: dict[str, Any]) -> tuple[dict[str, str], set[str]]:
    left: dict[str, str] = {}
    gone: set[str] = set()
    for change in report.get("changes") or []:
        app = _text(change.get("app"))
        if app is None:
            continue
        if change.get("action") == "remove":
            gone.add(app)
        elif _text(change.get("to")):
            left[app] = change["to"]
    return left, gone


def _rolled_back(report: dict[str, Any]) -> bool:
    return report.get("outcome") in ROLLED_BACK or isinstance(report.get("rollback"), dict)


def _leaves_versions(verb: str) -> bool:
    """A run whose host reports say which package versions it left (patch, software apply and remove)."""
    known = recorded_verb(verb)
    return known is not None and known.leaves_versions


def _resets_versions(verb: str) -> bool:
    """A run that moves packages back by design (rollback, deploy, decommission): start the expectation again."""
    known = recorded_verb(verb)
    return known is not None and known.resets_versions


def _changes_hosts(verb: str) -> bool:
    from ccops.verbs import VERBS

    found = VERBS.get(verb)
    return found is None or found.changes_hosts  # a verb this ccops does not know: assume it changed the host


Reached = list[tuple[datetime, "RunRecord", dict[str, Any]]]


def index(runs: list[RunRecord]) -> dict[str, Reached]:
    """Per host, the runs that reached it with its entry, oldest first: read once for the whole fleet."""
    out: dict[str, Reached] = {}
    for run in runs:
        when = stored_time(run.started)
        if when is None:
            continue
        for entry in run.hosts:
            if isinstance(entry, dict) and isinstance(entry.get("host"), str):
                out.setdefault(entry["host"], []).append((when, run, entry))
    for reached in out.values():
        reached.sort(key=lambda item: (item[0], item[1].id))
    return out


def expected_state(reached: Reached, before: datetime) -> tuple[dict[str, Expected], list[str]]:
    """What a host should have at ``before``, from the runs that reached it (``index``), and notes on damage."""
    expected: dict[str, Expected] = {}
    notes: list[str] = []
    for when, run, entry in reached:
        if when >= before:
            break
        report = _mapping(entry.get("report"))
        ok = entry.get("outcome") in OK_OUTCOMES and run.status != DAMAGED
        if _leaves_versions(run.verb) and ok and not _rolled_back(report):
            if report.get("damaged"):
                notes.append(f"run {run.id}: report damaged ({'; '.join(map(str, report['damaged']))[:300]})")
            left, gone = (_patch_versions if _patches(run.verb) else _software_versions)(report)
            for name in gone:
                expected.pop(name, None)
            expected.update({name: Expected(version, run.id, run.verb) for name, version in left.items()})
        elif (
            (_resets_versions(run.verb) and entry.get("outcome") not in UNTOUCHED)
            or (_changes_hosts(run.verb) and entry.get("changed"))
            or _rolled_back(report)
        ):
            # ccops itself moved packages (a rollback, a rolled-back change, a fix): start again
            expected.clear()
            notes.clear()
    return expected, notes


def boot_time(asset: dict[str, Any]) -> str | None:
    """When the host last booted, from the inspection's time and the uptime it reported."""
    collected = stored_time(asset.get("collected"))
    uptime = (asset.get("record") or {}).get("uptime_seconds")
    if collected is None or not isinstance(uptime, int) or isinstance(uptime, bool):
        return None
    return (collected - timedelta(seconds=uptime)).isoformat(timespec="seconds")


def _windows(record: dict[str, Any]) -> bool:
    os_info = _mapping(record.get("os"))
    return "windows" in str(os_info.get("family") or "").lower()


def check_host(
    host: str, asset: dict[str, Any] | None, runs: list[RunRecord], reached: dict[str, Reached] | None = None
) -> Finding | None:
    """The host's finding for its newest inspection (``Store.asset``), or None when nothing was taken back.

    ``reached`` is ``index(runs)`` when many hosts are checked against the same runs.
    """
    asset = _mapping(asset)
    record = _mapping(asset.get("record"))
    inspected = _text(asset.get("run_id"))
    collected = stored_time(asset.get("collected"))
    if not asset or _windows(record):
        return None  # never inspected; Windows updates are titles, not versions: not compared here
    if collected is None:
        why = "cannot check for reverted packages: the inspection has no time"
        return Finding(host, DAMAGED, why, inspected=inspected)
    expected, notes = expected_state((index(runs) if reached is None else reached).get(host, []), collected)
    if not expected:
        return Finding(host, DAMAGED, "; ".join(notes), inspected=inspected) if notes else None
    found = Finding(host, DAMAGED, "", sorted({e.run_id for e in expected.values()}), [], boot_time(asset), inspected)
    items = _mapping(record.get("packages")).get("items")
    damage = [str(n) for n in record.get("damaged") or [] if "packages" in str(n)]
    if not isinstance(items, dict) or not items or damage:
        found.detail = f"cannot check for reverted packages: {'; '.join(damage) or 'the inspection lists no packages'}"
        found.detail = found.detail[:1024]
        return found
    return _compared(found, expected, items, notes)


def _compared(found: Finding, expected: dict[str, Expected], items: dict[str, Any], notes: list[str]) -> Finding | None:
    """``found`` filled with the expected packages the inspection has lower or not at all."""
    for name in sorted(expected):
        want, have = expected[name], items.get(name)
        try:
            lower = have is None or compare(str(have), want.version) < 0
        except BadVersion as exc:
            notes.append(f"{name}: {exc}")
            continue
        if lower:
            found.packages.append({"name": name, "expected": want.version, "found": have, "run_id": want.run_id})
    if notes:  # a damaged run report or version: what was taken back cannot be told for sure
        found.detail = "; ".join(notes)[:1024]
        return found
    if not found.packages:
        return None
    found.kind = REVERTED
    found.run_ids = sorted({str(p["run_id"]) for p in found.packages})
    listed = ", ".join(f"{p['name']} {p['expected']} -> {p['found'] or 'removed'}" for p in found.packages[:MAX_LISTED])
    more = len(found.packages) - MAX_LISTED
    found.detail = (
        f"{len(found.packages)} package(s) left by run {', '.join(found.run_ids)} taken back: {listed}"
        + (f" and {more} more" if more > 0 else "")
        + f"; booted {found.boot_time or 'at an unknown time'}"
        + (f" (inspection {found.inspected})" if found.inspected else "")
    )
    return found


def runs_for(store: Store, now: datetime | None = None) -> list[RunRecord]:
    """The changing runs of the look-back, their reports whole (read-only runs, the nightly bulk, left out)."""
    from ccops.verbs import VERBS

    since = (now or datetime.now(UTC)) - timedelta(days=LOOK_BACK_DAYS)
    read_only = tuple(  # rollback is not a wave verb (changes_hosts False) but moves packages: kept
        name for name, verb in VERBS.items() if not (verb.changes_hosts or verb.leaves_versions or verb.resets_versions)
    )
    return store.runs_since(since.isoformat(timespec="seconds"), reports="all", skip_verbs=read_only)


def hosts_expecting(runs: list[RunRecord]) -> set[str]:
    """Hosts some successful patch or software run reached: the only ones whose inspection is worth reading."""
    return {
        str(entry.get("host"))
        for run in runs
        if _leaves_versions(run.verb)
        for entry in run.hosts
        if entry.get("outcome") in OK_OUTCOMES
    }


def findings(store: Store, hosts: list[str] | None = None, runs: list[RunRecord] | None = None) -> list[Finding]:
    """Each host's finding from its newest inspection (every host a change reached by default; quiet hosts left out)."""
    runs = runs_for(store) if runs is None else runs
    wanted = hosts_expecting(runs)
    reached = index(runs)
    out = []
    for name in sorted(wanted) if hosts is None else hosts:
        found = check_host(name, store.asset(name), runs, reached) if name in wanted else None
        if found is not None:
            out.append(found)
    return out


def by_host(store: Store) -> dict[str, Finding]:
    """Every host's finding, for risks.load_state (FleetState.reverted)."""
    return {found.host: found for found in findings(store)}


def host_risks(host: Host, reverted: dict[str, Finding]) -> list[dict[str, Any]]:
    """The ``reverted`` risk of one host (risks.host_risks), from ``by_host``."""
    found = reverted.get(host.name)
    if found is None:
        return []
    return [
        {
            "site": host.site,
            "host": host.name,
            "kind": REVERTED,
            "detail": found.detail if found.kind == REVERTED else f"damaged: {found.detail}",
            "run_id": found.run_ids[0] if found.run_ids else None,
            "run_ids": found.run_ids,
            "packages": found.packages,
            "boot_time": found.boot_time,
            "damaged": found.kind == DAMAGED,
        }
    ]


def risks(store: Store, inventory: Inventory, sites: set[str] | None = None) -> list[dict[str, Any]]:
    """``reverted`` risks of the watched hosts of the chosen sites (all by default)."""
    from ccops.report.risks import WATCHED_LIFECYCLES

    chosen = sites or set(inventory.sites)
    found = by_host(store)
    return [
        risk
        for host in inventory.hosts.values()
        if host.site in chosen and host.lifecycle in WATCHED_LIFECYCLES
        for risk in host_risks(host, found)
    ]


def show_lines(found: Finding | None) -> list[str]:
    """``ccops host show``'s section: what was taken back since the last approved change, escaped for a terminal."""
    if found is None:
        return ["Reverted packages: none (the newest inspection has what the last changes left)"]
    if found.kind == DAMAGED:
        return [f"Reverted packages: cannot tell: {visible(found.detail)}"]
    lines = [f"Reverted packages: {len(found.packages)} taken back; booted {visible(found.boot_time or 'unknown')}"]
    for package in found.packages:
        lines.append(
            f"  {visible(package['name'])}: {visible(package['expected'])} -> {visible(package['found'] or 'removed')}"
            f" (run {visible(package['run_id'])})"
        )
    return lines


REBOOT_CHOICES = ("if_required", "always", "never")


@dataclass
class Reapply:
    """A patch of just the hosts that took back an approved patch, with that patch's snapshots."""

    hosts: list[str]
    runs: list[str]  # the patch runs whose packages went back
    options: dict[str, Any]  # the patch verb's settings: the source runs' snapshots and reboot rule
    reason: str
    not_patch: list[str] = field(default_factory=list)  # hosts whose reverted packages came from software runs


def _patches(verb: str) -> bool:
    """A run whose host reports list the packages it patched (patch; reapply patches its hosts again)."""
    known = recorded_verb(verb)
    return known is not None and known.report == "changes"


def reapply_plan(found: list[Finding], runs: list[RunRecord], only_run: str | None = None) -> Reapply | None:
    """What ``ccops reapply`` patches: hosts whose reverted packages a patch run left (only ``only_run``'s if named)."""
    by_id = {run.id: run for run in runs}
    hosts: list[str] = []
    sources: set[str] = set()
    not_patch: list[str] = []
    for finding in found:
        if finding.kind != REVERTED:
            continue
        named = {str(p["run_id"]) for p in finding.packages}
        patches = {r for r in named if r in by_id and _patches(by_id[r].verb) and (only_run in (None, r))}
        if patches:
            hosts.append(finding.host)
            sources |= patches
        elif only_run is None:
            not_patch.append(finding.host)
    if not hosts:
        return None
    ordered = sorted((by_id[r] for r in sources), key=lambda run: (str(run.started), run.id))
    content: dict[str, Any] = {}
    reboot = "if_required"
    for run in ordered:  # a later run's snapshot of a site wins
        options = _mapping(_mapping(run.request).get("options"))
        for site, snapshot in _mapping(options.get("patch_content")).items():
            if isinstance(site, str) and isinstance(_mapping(snapshot).get("id"), str):
                content[site] = {"id": snapshot["id"]}
        if options.get("ccops_reboot") in REBOOT_CHOICES:
            reboot = str(options["ccops_reboot"])
    settings: dict[str, Any] = {"ccops_reboot": reboot, "content_snapshot": None}
    if content:
        settings["patch_content"] = content  # read as a resume reads it: these snapshots, approved again
    reason = f"reverted after {', '.join(run.id for run in ordered)}"
    return Reapply(sorted(hosts), [run.id for run in ordered], settings, reason, sorted(not_patch))
