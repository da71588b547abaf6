"""Choose hosts from an inventory by site, role, OS variant, business line or name."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase

from ccops.errors import CcopsError
from ccops.inventory.model import Host, Inventory


@dataclass(frozen=True)
class Selector:
    sites: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    os: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    limit: tuple[str, ...] = ()  # host names or shell patterns (sha-a-t00*)

    def as_dict(self) -> dict:
        return {k: list(v) for k, v in asdict(self).items() if v}

    def matches(self, host: Host) -> bool:
        return (
            (not self.sites or host.site in self.sites)
            and (not self.roles or host.role in self.roles)
            and (not self.os or host.os in self.os)
            and (not self.lines or host.business_line in self.lines)
            and (not self.limit or any(fnmatchcase(host.name, p) for p in self.limit))
        )


@dataclass
class Selection:
    hosts: list[Host]
    # hosts the selector matched but the verb may not touch, by reason
    excluded: dict[str, list[Host]]


def select(inventory: Inventory, selector: Selector, lifecycle: tuple[str, ...]) -> Selection:
    unknown = [s for s in selector.sites if s not in inventory.sites]
    if unknown:
        raise CcopsError(f"unknown site {unknown[0]!r}; sites: {', '.join(inventory.sites)}")
    hosts: list[Host] = []
    excluded: dict[str, list[Host]] = {}
    for host in inventory.hosts.values():
        if not selector.matches(host):
            continue
        if host.lifecycle in lifecycle:
            hosts.append(host)
        else:
            excluded.setdefault(f"lifecycle {host.lifecycle}", []).append(host)
    if not hosts:
        raise CcopsError("no host matches the selection" + (
            f" (matched {sum(map(len, excluded.values()))} hosts, none in state {'/'.join(lifecycle)})"
            if excluded else ""))
    return Selection(hosts, excluded)
