"""A host's neighbour table (its ARP / NDP cache) as the asset report carries it, and its stored summary.

Debian: the asset module reads ``ip -j neigh`` (or /proc/net/arp without iproute2); Windows: the
asset tasks read Get-NetNeighbor. Both answer a list of ``{address, mac, state}``. Each address is
read strictly (``ipaddress``: no zone, no prefix, no host name); anything else is noted as damage
for that host and left out. The summary a version keeps is only the addresses seen, sorted and
capped (MAX_STORED): never the raw table.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ccops.hostdata.kinds import At, Kind, ListOf, Notes, Record, Text, Unfit, what

MAX_REPORTED = 1024  # entries read from one host's report
MAX_STORED = 256  # addresses kept per host in a version's summary
# states of an entry whose neighbour did not answer: not a device seen (Linux and Windows spellings)
ABSENT_STATES = frozenset({"failed", "incomplete", "unreachable", "none", "noarp"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


ZONE = re.compile(r"[A-Za-z0-9_.-]{1,32}")


class Address(Kind):
    """One IPv4 or IPv6 address in its canonical text; anything else (a prefix, a name) is unfit.

    A link-local IPv6 address may carry its interface (``fe80::1%12``: Get-NetNeighbor's own form):
    the zone is dropped; on any other address it is unfit.
    """

    def parse(self, value: Any, path: At, notes: Notes) -> str:
        if not isinstance(value, str) or not 2 <= len(value) <= 80:
            raise Unfit(f"expected an IP address, got {what(value)}")
        text, _, zone = value.partition("%")
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise Unfit("expected an IP address, got text that is not one") from None
        if "%" in value and not (address.version == 6 and address.is_link_local and ZONE.fullmatch(zone)):
            raise Unfit("expected an IP address, got one with a zone where none belongs")
        return str(address)


NEIGHBOUR = Record(
    {"address": Address(), "mac": Text(64, nullable=True), "state": Text(32, nullable=True)},
    required=("address",),
)
NEIGHBOURS = ListOf(NEIGHBOUR, MAX_REPORTED)


def seen(record: dict[str, Any]) -> list[str]:
    """The addresses a (parsed) asset record's neighbour table says answered: sorted, distinct, capped."""
    found: set[IPAddress] = set()
    for entry in record.get("neighbours") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("address"), str):
            continue
        if str(entry.get("state") or "").lower() in ABSENT_STATES:
            continue
        try:
            address = ipaddress.ip_address(entry["address"])
        except ValueError:
            continue
        if not (address.is_loopback or address.is_multicast or address.is_unspecified or address.is_link_local):
            found.add(address)
    ordered = sorted(found, key=lambda a: (a.version, int(a)))
    return [str(a) for a in ordered[:MAX_STORED]]
