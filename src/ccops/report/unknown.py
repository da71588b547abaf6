"""Unknown devices: addresses on a site's own networks that its hosts' neighbour tables saw and
that nothing in the inventory is (Scenario 1 turned round: a device nobody declared).

Reads the newest asset summary of each watched host (``neighbours``: the addresses its table said
answered, ccops.hostdata.neighbours) and the site's ``subnets:``. An address is known when it is an
inventory host's (any site, any lifecycle), the site's node, distribution point or backup target,
one of its ``gateways:`` or inside its ``management:`` networks. One ``unknown_device`` risk per
address and site, naming the hosts that saw it; at most MAX_PER_SITE per site.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from ccops.inventory.lockout import address_of

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory, Site

KIND = "unknown_device"
MAX_PER_SITE = 200
SEEN_BY_SHOWN = 5
WATCHED = ("active", "retiring")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def unknown_risks(
    inventory: Inventory, latest: dict[str, dict[str, Any]], sites: set[str] | None = None
) -> list[dict[str, Any]]:
    chosen = sites or set(inventory.sites)
    inventory_addresses = {a for a in (_address(address_of(n, inventory.hosts)) for n in inventory.hosts) if a}
    out: list[dict[str, Any]] = []
    for code in sorted(chosen):
        site = inventory.sites.get(code)
        if site is None or not site.subnets:
            continue
        out += _site_risks(inventory, site, latest, inventory_addresses)
    return out


def _site_risks(
    inventory: Inventory, site: Site, latest: dict[str, dict[str, Any]], inventory_addresses: set[Address]
) -> list[dict[str, Any]]:
    subnets = [ipaddress.ip_network(s) for s in site.subnets]
    trusted = [ipaddress.ip_network(s) for s in (*site.management, *site.gateways)]
    known = inventory_addresses | {a for a in (_address(address_of(n, inventory.hosts)) for n in _services(site)) if a}
    seen_by: dict[Address, list[str]] = {}
    for host in inventory.hosts.values():
        if host.site != site.code or host.lifecycle not in WATCHED:
            continue
        for text in (latest.get(host.name) or {}).get("neighbours") or []:
            address = _address(text)
            if address is None or address in known or any(address in n for n in trusted):
                continue
            network = next((n for n in subnets if address in n), None)
            if network is not None and address not in (network.network_address, network.broadcast_address):
                seen_by.setdefault(address, []).append(host.name)
    out = []
    for address in sorted(seen_by, key=lambda a: (a.version, int(a)))[:MAX_PER_SITE]:
        hosts = sorted(seen_by[address])
        shown = ", ".join(hosts[:SEEN_BY_SHOWN]) + (
            f" and {len(hosts) - SEEN_BY_SHOWN} more" if len(hosts) > SEEN_BY_SHOWN else ""
        )
        network = next(n for n in subnets if address in n)
        out.append(
            {
                "site": site.code,
                "host": None,
                "kind": KIND,
                "detail": f"{address} on {network} is no host of the inventory; seen by {shown}",
                "address": str(address),
                "seen_by": hosts,
            }
        )
    return out


def _services(site: Site) -> list[str | None]:
    node = site.node
    return [
        node.host if node else None,
        node.address if node else None,
        site.distribution_point.get("host"),
        site.backup_target.get("host"),
    ]


def _address(value: Any) -> Address | None:
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None
