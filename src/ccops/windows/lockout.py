"""Whether the Windows Firewall rules ccops comply writes would shut the management addresses out
of WinRM, decided on the controller before a fix writes anything.

What a fix leaves on a seat (roles/comply/tasks/apply_windows.yml, rules from
``ccops.windows.comply.wanted_rules``): every profile on with inbound traffic blocked unless a
rule allows it (the Windows default), one allow rule per policy ``allow`` entry, and one
inbound block rule over the deny list. Windows Firewall lets a block rule win over every
allow rule, whatever their order and whoever wrote them. So:

- an inbound block rule that names any address of a management entry shuts it out of WinRM
  for certain, whatever any allow rule says: refused;
- the allow side is not judged here: WinRM reaches a seat today through an allow rule the
  seat already has (ccops does not manage it and the seat reports only ccops's own rules),
  and a fix removes none but ccops's own.

Remote address elements a block rule holds that are not IP literals (keywords such as
LocalSubnet) might cover the management addresses: they refuse too. An IPv4-mapped IPv6
address is the IPv4 client it maps.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ccops.windows.comply import wanted_rules

Interval = tuple[int, int, int]  # IP version, first, last


def winrm_lockout(firewall: Any, management: Any, port: Any) -> str:
    """Why the rules a fix writes would keep some management address from WinRM on ``port``, or ""."""
    if not isinstance(firewall, dict) or not firewall:
        return ""
    try:
        rules = wanted_rules(firewall)
        winrm_port = int(port)
    except (KeyError, TypeError, ValueError, AttributeError):
        return "the firewall policy or the WinRM port is not of the shape ccops writes: refused"
    inbound = [r for r in rules if r["direction"] == "in"]
    for entry in [str(m) for m in management or []]:
        why = _entry_lockout(inbound, entry, winrm_port)
        if why:
            return (
                f"the management address {entry} would not reach WinRM port {winrm_port}: {why}; Windows Firewall "
                "lets a block rule win over every allow rule: keep site.management out of deny"
            )
    return ""


def _entry_lockout(inbound: list[dict[str, Any]], entry: str, port: int) -> str:
    wanted = _intervals(entry)
    if wanted is None or len(wanted) != 1:
        return f"{entry!r} is not an IP address or network"
    version, low, high = wanted[0]
    blocking = (r for r in inbound if r["action"] == "block" and r["protocol"] in ("tcp", "any"))
    for rule in (r for r in blocking if _port_in(r["localport"], port)):
        for element in _elements(rule["remoteip"]):
            got = _intervals(element)
            if got is None:
                return f"rule '{rule['name']}' blocks {element!r}, which ccops cannot rule out"
            if any(v == version and first <= high and low <= last for v, first, last in got):
                return f"rule '{rule['name']}' blocks {element}"
    return ""


def _elements(remoteip: str) -> list[str]:
    return [p.strip() for p in str(remoteip).split(",") if p.strip()]


def _intervals(element: str) -> list[Interval] | None:
    """The addresses an element names (an address, A-B, a network by prefix or mask, any or *),
    or None for anything else."""
    if element.lower() in ("any", "*"):
        return [(4, 0, 2**32 - 1), (6, 0, 2**128 - 1)]
    try:
        if "-" in element:
            low, high = (_address(p) for p in element.split("-", 1))
            return [(low.version, int(low), int(high))] if low.version == high.version else None
        if "/" not in element:
            ip = _address(element)
            return [(ip.version, int(ip), int(ip))]
        network = ipaddress.ip_network(element.strip(), strict=False)
    except ValueError:
        return None
    return [(network.version, int(network[0]), int(network[-1]))]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(text.strip())
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # a WinRM client of IPv4 is matched by IPv4 rules
    return ip


def _port_in(localport: str, port: int) -> bool:
    for part in _elements(localport):
        if part.lower() in ("any", "*"):
            return True
        low, _, high = part.partition("-")
        if low.isdigit() and (high or low).isdigit() and int(low) <= port <= int(high or low):
            return True
    return False
