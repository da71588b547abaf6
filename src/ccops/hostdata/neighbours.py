"""A host's neighbour table (its ARP / NDP cache) as the asset report carries it, and its stored summary.

Debian: the asset module reads ``ip -j neigh`` (or /proc/net/arp without iproute2); Windows: the
asset tasks read Get-NetNeighbor. Both answer a list of ``{address, mac, state}``. Each address is
read strictly (``ipaddress``: no prefix, no host name, a zone only on a link-local address);
anything else is noted as damage for that host and left out. What is stored (the asset record and
its summary) is only the addresses that answered, sorted and capped (MAX_STORED): never the raw table.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ccops.hostdata.kinds import At, Kind, Notes, Record, Text, Unfit, what

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


class NeighbourTable(Kind):
    """What a host sends (a list of ``{address, mac, state}``) kept as what ccops stores: the addresses
    that answered, sorted, distinct, capped. An address as stored (plain text) reads back as itself."""

    def empty(self) -> list[str]:
        return []

    def parse(self, value: Any, path: At, notes: Notes) -> list[str]:
        if not isinstance(value, list | tuple):
            raise Unfit(f"expected a list, got {what(value)}")
        if len(value) > MAX_REPORTED:
            notes.add(path, f"{len(value)} entries, read the first {MAX_REPORTED}")
        found: set[IPAddress] = set()
        for i, item in enumerate(value[:MAX_REPORTED]):
            try:
                if isinstance(item, str):  # an address as stored
                    entry = {"address": Address().parse(item, (path, i), notes)}
                else:
                    entry = NEIGHBOUR.parse(item, (path, i), notes)
            except Unfit as why:
                notes.add((path, i), str(why))
                continue
            if str(entry.get("state") or "").lower() not in ABSENT_STATES:
                found.add(ipaddress.ip_address(entry["address"]))
        kept = sorted((a for a in found if _a_device(a)), key=lambda a: (a.version, int(a)))
        return [str(a) for a in kept[:MAX_STORED]]


NEIGHBOURS = NeighbourTable()


def _a_device(address: IPAddress) -> bool:
    return not (address.is_loopback or address.is_multicast or address.is_unspecified or address.is_link_local)


def seen(record: dict[str, Any]) -> list[str]:
    """The addresses a parsed asset record's neighbour table kept (NeighbourTable did the reading)."""
    return [a for a in record.get("neighbours") or [] if isinstance(a, str)][:MAX_STORED]
