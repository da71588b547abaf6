"""The firewall ccops comply loads on a Debian host, evaluated in the order nftables evaluates it.

A lock-out guard that reads only the allow-list misses a deny rule that comes first. The
input chain roles/comply/library/ccops_comply_state.py (``ruleset``) writes is, in order:

1. ``iif "lo" accept``; ``ct state established,related accept``; ``ct state invalid drop``
   (none of them decides a new connection from another machine);
2. the deny list: ``ip saddr { DENY } drop``, then ``ip6 saddr { DENY } drop``;
3. ICMP errors and ``meta l4proto 58`` (ipv6-icmp) accept (no TCP);
4. each allow rule in file order, IPv4 then IPv6: ``ip saddr { FROM } tcp dport { PORTS } accept``;
5. ``policy drop``.

So a new TCP connection from address X to port P is dropped when X is in the deny list,
whatever the allow-list says; else admitted when an allow rule names X and P; else dropped.
tests/unit/test_compliance.py checks this order against the module's own ruleset text.
``inventory validate`` (ccops.inventory.lockout) and the fix-time guard (the comply role's
``comply_firewall_lockout`` filter) both ask this module.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
PORT = re.compile(r"\d{1,5}(-\d{1,5})?")


@dataclass(frozen=True)
class Rule:
    """One address rule of the input chain: its family, source elements, what it admits, its verdict."""

    version: int
    sources: tuple[str, ...]
    verdict: str  # "accept" or "drop"
    proto: str = ""  # "" for a deny rule: every protocol
    ports: tuple[str, ...] = ()
    why: str = ""


def input_chain(firewall: dict[str, Any]) -> list[Rule]:
    """The address rules of the input chain, in the order the module writes them."""
    rules = [
        Rule(version, tuple(deny), "drop", why=f"deny {', '.join(deny)}")
        for version in (4, 6)
        if (deny := elements(firewall.get("deny") or [], version))
    ]
    for rule in firewall.get("allow") or []:
        proto = "udp" if rule.get("proto") == "udp" else "tcp"
        ports = tuple(str(p) for p in rule.get("ports") or [] if PORT.fullmatch(str(p)))
        for version in (4, 6):
            sources = elements(rule.get("from") or [], version)
            if ports and sources:
                why = f"allow {proto} {', '.join(ports)} from {', '.join(sources)}"
                rules.append(Rule(version, tuple(sources), "accept", proto, ports, why))
    return rules


def decide(firewall: dict[str, Any], address: str, port: int, proto: str = "tcp") -> tuple[bool, str]:
    """Whether a new connection from ``address`` to ``port`` is admitted, and the rule that decides."""
    ip = _address(address)
    if ip is None:
        return False, f"{address!r} is not an IP address"
    for rule in input_chain(firewall):
        if rule.version != ip.version or not any(contains(e, ip) for e in rule.sources):
            continue
        if rule.verdict == "drop":
            return False, rule.why
        if rule.proto == proto and any(_port_in(p, port) for p in rule.ports):
            return True, rule.why
    return False, "no allow rule admits it (policy drop)"


def lockout(firewall: dict[str, Any] | None, controller: str, port: int) -> str:
    """Why this ruleset would shut the controller out of SSH, or "" when it admits it."""
    if not firewall or not controller:
        return ""
    admitted, why = decide(firewall, controller, port)
    if admitted:
        return ""
    return (
        f"this controller ({controller}) would not reach SSH port {port}: {why}; nftables drops a denied "
        "address before any allow rule: keep site.management out of deny and allow management on that port"
    )


def denied(deny: list[str], target: str) -> str:
    """The first deny element (chain order) that drops some address of ``target`` (an address or
    network), or "" when none does."""
    try:
        network = ipaddress.ip_network(target, strict=False)
    except ValueError:
        return ""
    for element in elements(deny, network.version):
        low, high = _bounds(element)
        if low is not None and high is not None and low <= int(network[-1]) and int(network[0]) <= high:
            return element
    return ""


def elements(items: list[str], version: int) -> list[str]:
    """Set elements of one IP version, as the module writes them (an address, A-B or a network)."""
    out = []
    for item in items:
        parts = item.split("-") if "/" not in item else [item]
        try:
            parsed = [ipaddress.ip_network(p, strict=False) if "/" in p else ipaddress.ip_address(p) for p in parts]
        except ValueError:
            continue
        if len(parts) <= 2 and all(p.version == version for p in parsed):
            out.append("-".join(str(p) for p in parsed))
    return out


def contains(element: str, ip: Address) -> bool:
    low, high = _bounds(element)
    return low is not None and high is not None and low <= int(ip) <= high


def _bounds(element: str) -> tuple[int, int] | tuple[None, None]:
    try:
        if "/" in element:
            network = ipaddress.ip_network(element, strict=False)
            return int(network[0]), int(network[-1])
        first, _, last = element.partition("-")
        return int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last or first))
    except ValueError:
        return None, None


def _address(text: str) -> Address | None:
    """An address as the packet carries it: sshd shows an IPv4 client of a dual-stack socket as ::ffff:a.b.c.d."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _port_in(spec: str, port: int) -> bool:
    low, _, high = spec.partition("-")
    return int(low) <= port <= int(high or low)
