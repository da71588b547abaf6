"""A site's deny list must never cover what ccops and its hosts depend on.

nftables drops a denied source before any allow rule (ccops.inventory.firewall), and the deny list
also rejects traffic to those addresses. So a deny entry may not contain: a site.management
address (the jump hosts ccops and administrators come from), the site's execution node,
its distribution point or its backup target. Addresses come from the inventory (a host
name of any site) or are written as IP literals; a name the inventory does not hold cannot
be checked here and is left to the fix-time guard.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ccops.inventory.firewall import denied
from ccops.inventory.model import Endpoint, Host, Site
from ccops.inventory.yamldoc import Problem


def lockout_problems(sites: dict[str, Site], hosts: dict[str, Host]) -> list[Problem]:
    out = []
    for site in sites.values():
        if not site.denies:
            continue
        protected = _protected(site, hosts)
        for where, line, network in site.denies:
            for what, target in protected:
                hit = denied([network], target)
                if hit:
                    out.append(
                        Problem(
                            site.file,
                            line,
                            f"{where}: {network} contains {target}, {what}: nftables drops a denied address "
                            "before any allow rule, so ccops would lock itself out (narrow the deny entry)",
                        )
                    )
                    break
    return out


def _protected(site: Site, hosts: dict[str, Host]) -> list[tuple[str, str]]:
    """(what it is, address or network) for everything the site's deny list must leave reachable."""
    out = [
        ("a management address (site.management)", m.removesuffix("/32").removesuffix("/128")) for m in site.management
    ]
    node = site.node
    if node is not None:
        address = address_of(node.host or node.address, hosts)
        if address:
            out.append(("the site's execution node (site.node)", address))
    for key, endpoint in (("distribution_point", site.distribution_point), ("backup_target", site.backup_target)):
        out += [(f"the site's {key.replace('_', ' ')} (site.{key})", a) for a in _endpoint_addresses(endpoint, hosts)]
    return out


def _endpoint_addresses(endpoint: Endpoint, hosts: dict[str, Host]) -> list[str]:
    names = [endpoint.get("host")]
    if endpoint.get("url"):
        names.append(urlsplit(endpoint["url"]).hostname)
    return [a for a in (address_of(n, hosts) for n in names) if a]


def address_of(name: str | None, hosts: dict[str, Host]) -> str | None:
    """An inventory host's address, or an IP literal as written; None for anything else."""
    if not name:
        return None
    host = hosts.get(name)
    if host is not None:
        return host.address
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return None
