"""The vulnerability rows of a selection of hosts: inventory, records and snapshots read once."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ccops.content.snapshots import all_snapshots, content_dir
from ccops.run.execute import warn
from ccops.software.points import key_files
from ccops.vulns.classify import HostFacts, Row, classify
from ccops.vulns.snapshot_logs import SnapshotLogs, snapshot_logs
from ccops.vulns.tracker import load as load_tracker

if TYPE_CHECKING:
    from ccops.inventory.model import Host, Inventory
    from ccops.store.records import Store

WATCHED = ("active", "retiring")
_CODENAME = re.compile(r"[a-z]{2,32}")
FACT_KEYS = ("os", "packages")  # what host_facts reads of an asset record


def debian_hosts(inventory: Inventory, hosts: Iterable[Host]) -> list[Host]:
    return sorted((h for h in hosts if h.lifecycle in WATCHED and h.os_family == "debian"), key=lambda h: h.name)


def host_facts(host: Host, asset: dict[str, Any] | None) -> HostFacts | None:
    """What the host's newest asset record says it has installed; None when it was never inspected."""
    if asset is None:
        return None
    record = _mapping(asset.get("record"))
    items = _mapping(record.get("packages")).get("items")
    installed = {str(n): str(v) for n, v in items.items() if isinstance(v, str)} if isinstance(items, dict) else {}
    codename = str(_mapping(record.get("os")).get("codename") or "")
    # binary -> source, once the asset record carries it (packages.sources); until then the tracker is
    # matched by binary names equal to their source's and by the binaries a snapshot holds
    named = _mapping(record.get("packages")).get("sources")
    sources = {str(b): str(s) for b, s in named.items() if isinstance(s, str)} if isinstance(named, dict) else {}
    release = codename if _CODENAME.fullmatch(codename) else None
    return HostFacts(host.name, host.site, installed, release, sources)


def vuln_rows(inventory: Inventory, store: Store, hosts: Iterable[Host], now: datetime | None = None) -> list[Row]:
    return fleet_rows(inventory, store, hosts, now)[0]


def fleet_rows(
    inventory: Inventory, store: Store, hosts: Iterable[Host], now: datetime | None = None
) -> tuple[list[Row], list[str]]:
    """Every row of the chosen hosts (Debian, active or retiring), and the hosts never inspected."""
    now = now or datetime.now(UTC)
    content = content_dir(inventory, create=False)
    chosen = debian_hosts(inventory, hosts)
    sites = sorted({h.site for h in chosen})
    snapshots = all_snapshots(inventory) if content.is_dir() else []
    per_site: dict[str, list[tuple[dict[str, Any], SnapshotLogs]]] = {
        site: [(m, snapshot_logs(content, m)) for m in snapshots if m.get("site") == site and m.get("staged")]
        for site in sites
    }
    public_key = key_files(inventory).public
    loaded = {site: load_tracker(content, site, public_key) for site in sites}
    warn([t.problem for t in loaded.values() if t.problem])  # an untrusted import: named, never used
    trackers = {site: t.data for site, t in loaded.items()}
    rows: list[Row] = []
    never: list[str] = []
    # one read, only what host_facts reads; of a site with nothing to classify against, only whether inspected
    judged = {site for site in sites if per_site[site] or trackers[site]}
    assets = store.assets([h.name for h in chosen if h.site in judged], keys=FACT_KEYS)
    assets |= store.assets([h.name for h in chosen if h.site not in judged], keys=())
    for host in chosen:
        facts = host_facts(host, assets.get(host.name))
        if facts is None:
            never.append(host.name)
        else:
            rows += classify(facts, per_site[host.site], trackers[host.site], now)
    return rows, never


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
