"""Each host's policy and accounts, resolved from its site's declarations and the inventory.

A site's ``policies:`` apply in file order to the hosts they match (later entries
override earlier ones key by key; lists are replaced, not joined). Firewall sources
become addresses here, from the inventory itself: ``management`` (the site's
``management:`` addresses), ``site`` (every in-service host of the site),
``group:NAME`` and ``role:ROLE`` (in-service hosts of the site). A host that leaves
the inventory, or is retired, leaves every allow-list at the next ``comply --fix``.
The result travels to Ansible as one host variable, ``ccops_comply``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ccops.inventory.model import Host, Inventory

IN_SERVICE = ("active", "retiring")  # planned hosts are not on the network yet; retired ones are gone
POLICIES = ("usb_storage", "firewall", "blocked_sites", "screen_lock", "services", "ssh", "winrm")


def host_compliance(inventory: Inventory, host: Host) -> dict[str, Any] | None:
    """What ``ccops comply`` enforces on this host; None when its site declares nothing."""
    site = inventory.sites[host.site]
    if not site.policies and not site.accounts and not site.management:
        return None
    merged: dict[str, Any] = {}
    for policy in site.policies:
        if matches(policy["match"], host):
            merged.update({k: v for k, v in policy.items() if k != "match"})
    out: dict[str, Any] = {k: merged[k] for k in POLICIES if k in merged}
    if "firewall" in out:
        out["firewall"] = {
            "allow": [
                {**rule, "from": _addresses(inventory, host.site, rule["from"])} for rule in out["firewall"]["allow"]
            ],
            "deny": out["firewall"]["deny"],
        }
    accounts = [a for a in site.accounts if matches(a["match"], host)]
    out["accounts"] = {
        "present": [
            {k: a[k] for k in ("name", "kind", "comment", "admin")} for a in accounts if a["state"] == "present"
        ],
        "revoked": [a["name"] for a in accounts if a["state"] == "revoked"],
        # admins are managed exclusively once a site declares accounts
        "managed": bool(site.accounts),
    }
    return out


def matches(match: dict[str, list[str]], host: Host) -> bool:
    values = {"roles": host.role, "os": host.os, "groups": host.group, "business_lines": host.business_line}
    return all(values[key] in wanted for key, wanted in match.items())


def _addresses(inventory: Inventory, site_code: str, sources: list[str]) -> list[str]:
    """Every address the sources name, as nftables and Windows Firewall take them: A, A-B or a network."""
    cache: dict[tuple[str, str], list[str]] = inventory.cache.setdefault("comply_sources", {})
    out: list[str] = []
    for source in sources:
        key = (site_code, source)
        if key not in cache:
            cache[key] = _resolve(inventory, site_code, source)
        out += [a for a in cache[key] if a not in out]
    return out


def _resolve(inventory: Inventory, site_code: str, source: str) -> list[str]:
    site = inventory.sites[site_code]
    if source == "management":
        return [n.removesuffix("/32").removesuffix("/128") for n in site.management]
    kind, _, name = source.partition(":")
    hosts = [h for h in inventory.hosts.values() if h.site == site_code and h.lifecycle in IN_SERVICE]
    if kind == "group":
        hosts = [h for h in hosts if h.group == name]
    elif kind == "role":
        hosts = [h for h in hosts if h.role == name]
    return compress([h.address for h in hosts if h.address])


def compress(addresses: list[str]) -> list[str]:
    """Sorted addresses, consecutive runs written as ranges: 2,500 seats stay a few elements."""
    parsed = sorted({ipaddress.ip_address(a) for a in addresses}, key=lambda a: (a.version, int(a)))
    out: list[str] = []
    start = prev = None
    for address in [*parsed, None]:
        if prev is not None and (address is None or address.version != prev.version or int(address) != int(prev) + 1):
            out.append(str(start) if start == prev else f"{start}-{prev}")
            start = None
        if start is None:
            start = address
        prev = address
    return out
