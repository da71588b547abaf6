"""Each host's policy and accounts, resolved from its site's declarations and the inventory.

A site's ``policies:`` apply in file order to the hosts they match (later entries
override earlier ones key by key; lists are replaced, not joined). Firewall sources
become addresses here, from the inventory itself: ``management`` (the site's
``management:`` addresses), ``site`` (every in-service host of the site),
``group:NAME`` and ``role:ROLE`` (in-service hosts of the site). A host that leaves
the inventory, or is retired, leaves every allow-list at the next ``comply --fix``.
The result travels to Ansible as one host variable, ``ccops_comply``.

Quarantine (ccops.quarantine) is an overlay on both sides: a held host's own firewall
admits only what it needs to be fixed (the site's management addresses, execution node,
distribution point and backup target, on every port; its own allow rules replaced, its
deny list kept), and every other host's ``site``, ``group:`` and ``role:`` sources leave
held hosts out, like retired ones. The held set is read once per inventory load from the
store (``held_hosts``), so any comply --fix, scheduled or not, enforces it.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ccops.inventory.lockout import address_of
from ccops.inventory.model import Endpoint, Host, Inventory, Site

IN_SERVICE = ("active", "retiring")  # planned hosts are not on the network yet; retired ones are gone
HELD = "quarantine_held"  # inventory.cache key: the hosts held apart, read once per load
IN_SERVICE_KEY = "comply_in_service"  # inventory.cache key: each site's hosts in service, not held
ALL_PORTS = "1-65535"
POLICIES = ("usb_storage", "firewall", "blocked_sites", "screen_lock", "services", "ssh", "winrm")


def host_compliance(inventory: Inventory, host: Host) -> dict[str, Any] | None:
    """What ``ccops comply`` enforces on this host; None when its site declares nothing."""
    site = inventory.sites[host.site]
    held = host.name in held_hosts(inventory)
    if not site.policies and not site.accounts and not site.management and not held:
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
    if held:
        deny = out.get("firewall", {}).get("deny", [])
        out["firewall"] = {
            "allow": [
                {"proto": proto, "ports": [ALL_PORTS], "from": held_sources(inventory, site)}
                for proto in ("tcp", "udp")
            ],
            "deny": deny,
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
    hosts = _in_service(inventory).get(site_code, [])
    if kind == "group":
        hosts = [h for h in hosts if h.group == name]
    elif kind == "role":
        hosts = [h for h in hosts if h.role == name]
    return compress([h.address for h in hosts if h.address])


def _in_service(inventory: Inventory) -> dict[str, list[Host]]:
    """Each site's hosts in service and not held, found in one pass (not one per site and source: 32,000 hosts)."""
    by_site: dict[str, list[Host]] | None = inventory.cache.get(IN_SERVICE_KEY)
    if by_site is None:
        held = held_hosts(inventory)
        by_site = inventory.cache[IN_SERVICE_KEY] = {}
        for h in inventory.hosts.values():
            if h.lifecycle in IN_SERVICE and h.name not in held:
                by_site.setdefault(h.site, []).append(h)
    return by_site


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


def held_hosts(inventory: Inventory) -> frozenset[str]:
    """The hosts held apart now (ccops.quarantine), read from the store once per inventory load."""
    held = inventory.cache.get(HELD)
    if held is None:
        from ccops.store.holds import held_names

        held = inventory.cache[HELD] = held_names()
    return frozenset(held)


def set_held(inventory: Inventory, names: frozenset[str] | set[str]) -> None:
    """Resolve this inventory's policies with these hosts held (what was resolved before is dropped)."""
    inventory.cache[HELD] = frozenset(names)
    for key in ("comply_sources", IN_SERVICE_KEY, "export_comply"):
        inventory.cache.pop(key, None)


def held_sources(inventory: Inventory, site: Site) -> list[str]:
    """What a held host of ``site`` still admits: management, the node, the point and the backup target."""
    out = [n.removesuffix("/32").removesuffix("/128") for n in site.management]
    names: list[str | None] = []
    if site.node is not None:
        names.append(site.node.host or site.node.address)
    names += [*_endpoint_names(site.distribution_point), *_endpoint_names(site.backup_target)]
    for name in names:
        address = address_of(name, inventory.hosts)
        if address is not None and address not in out:
            out.append(address)
    return out


def hold_refusal(inventory: Inventory, host: Host) -> str:
    """Why ``host`` cannot be held apart, or "": a hold must leave ccops a way in, and the site its services."""
    site = inventory.sites[host.site]
    if host.lifecycle not in IN_SERVICE:
        return f"{host.name} is {host.lifecycle}: only hosts in service are held apart"
    if not site.management:
        return (
            f"{host.name}: site {site.code} declares no management addresses; a held host admits only those "
            "(and the site's node, point and backup target): declare site.management first"
        )
    node = [name] if site.node is not None and (name := site.node.host or site.node.address) else []
    for what, names in (
        ("execution node", node),
        ("distribution point", _endpoint_names(site.distribution_point)),
        ("backup target", _endpoint_names(site.backup_target)),
    ):
        if host.name in names or (host.address and host.address in names):
            return f"{host.name} is the site's {what}: holding it apart would cut the site off; put it right by hand"
    if node and address_of(node[0], inventory.hosts) is None:
        return f"{host.name}: site.node {node[0]!r} is no address the inventory knows: a held host could not admit it"
    return ""


def dropping_hosts(inventory: Inventory, held: Host) -> list[str]:
    """The other in-service hosts whose allow-list names ``held`` (through site, group: or role:) and
    leaves it out at their next comply --fix."""
    named = {"site", f"group:{held.group}", f"role:{held.role}"}
    out = []
    for other in inventory.hosts.values():
        if other.name == held.name or other.site != held.site or other.lifecycle not in IN_SERVICE:
            continue
        merged: dict[str, Any] = {}
        for policy in inventory.sites[other.site].policies:
            if matches(policy["match"], other):
                merged.update({k: v for k, v in policy.items() if k != "match"})
        rules = (merged.get("firewall") or {}).get("allow") or []
        if any(named & set(rule["from"]) for rule in rules):
            out.append(other.name)
    return out


def _endpoint_names(endpoint: Endpoint) -> list[str]:
    from urllib.parse import urlsplit

    names = [endpoint.get("host")]
    if endpoint.get("url"):
        names.append(urlsplit(endpoint["url"]).hostname)
    return [n for n in names if n]
