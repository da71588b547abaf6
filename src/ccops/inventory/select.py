"""Choose hosts from an inventory by site, role, OS variant, business line or name.

Every command that takes selectors (plan, the verbs, inventory list) selects
through ``select``, so a selector that names nothing is refused the same way
everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from typing import Any

from ccops.errors import RefusedError, UsageError
from ccops.inventory.model import Host, Inventory


@dataclass(frozen=True)
class Selector:
    sites: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    os: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    limit: tuple[str, ...] = ()  # host names or shell patterns (sha-a-t00*)

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) for k, v in asdict(self).items() if v}

    def describe(self) -> str:
        """The selector as the options that made it: --site njjy --role crm_server."""
        option = {"sites": "--site", "roles": "--role", "os": "--os", "lines": "--line", "limit": "--limit"}
        return " ".join(f"{option[k]} {v}" for k, values in self.as_dict().items() for v in values) or "all hosts"

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


def select(inventory: Inventory, selector: Selector, lifecycle: tuple[str, ...] | None = None) -> Selection:
    """The hosts ``selector`` picks that are in one of the ``lifecycle`` states (None: any state).

    A selector value the inventory does not know, or a selection with no host,
    is a usage error (exit 64); hosts that all sit in other lifecycle states
    are a refusal (exit 5).
    """
    _refuse_unknown(inventory, selector)
    hosts: list[Host] = []
    excluded: dict[str, list[Host]] = {}
    for host in inventory.hosts.values():
        if not selector.matches(host):
            continue
        if lifecycle is None or host.lifecycle in lifecycle:
            hosts.append(host)
        else:
            excluded.setdefault(f"lifecycle {host.lifecycle}", []).append(host)
    if hosts:
        return Selection(hosts, excluded)
    if excluded:
        matched = sum(map(len, excluded.values()))
        states = ", ".join(f"{len(h)} {reason.removeprefix('lifecycle ')}" for reason, h in excluded.items())
        raise RefusedError(
            f"{selector.describe()} matched {matched} host(s), none in state "
            f"{'/'.join(lifecycle or ())} ({states}); nothing to do"
        )
    raise UsageError(f"no host matches {selector.describe()}")


def _refuse_unknown(inventory: Inventory, selector: Selector) -> None:
    hosts = list(inventory.hosts.values())
    known = {
        "site": (selector.sites, list(inventory.sites)),
        "role": (selector.roles, _values(h.role for h in hosts)),
        "os": (selector.os, _values(h.os for h in hosts)),
        "line": (selector.lines, _values(h.business_line for h in hosts)),
    }
    for option, (wanted, values) in known.items():
        for value in wanted:
            if value not in values:
                raise UsageError(f"unknown {option} {value!r}; this inventory has: {', '.join(values)}")
    for pattern in selector.limit:
        _refuse_ansible_pattern(pattern)
        if not any(fnmatchcase(h.name, pattern) for h in hosts):
            raise UsageError(f"--limit {pattern!r} matches no host in the inventory")


def _refuse_ansible_pattern(pattern: str) -> None:
    """--limit takes host names and shell patterns; say so when given Ansible's own pattern syntax."""
    if "," in pattern or ":" in pattern:
        hint = "a list: repeat --limit once per name or pattern"
    elif pattern.startswith(("!", "&")):
        hint = "an exclusion or intersection: narrow with --site/--role/--os/--line and shell patterns instead"
    elif pattern.startswith("@"):
        hint = "a host-list file: pass each name with its own --limit"
    elif pattern.startswith("~"):
        hint = "a regular expression: use a shell pattern such as sha-a-t0*"
    else:
        return
    raise UsageError(f"--limit {pattern!r} is Ansible's syntax for {hint}")


def _values(items: Iterable[object]) -> list[str]:
    return sorted({str(i) for i in items if i is not None})
