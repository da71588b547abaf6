"""A host's restore card type must exist for its OS family, checked for every verb at validation.

``ccops.windows.checks.restore_card_problem`` decides (a ``command`` or ``lab`` card on a Windows
seat would run a Linux command where a write filter must be switched off, so the change would
vanish at the next boot while the run reports it done). This module says where in the site
file the deciding variable is written: the host's own override, its group, or the site's vars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ccops.inventory.yamldoc import Problem, YamlDoc
from ccops.windows.checks import restore_card_problem

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ccops.inventory.model import Host, Site
    from ccops.inventory.yamldoc import KeyPath

CARD_KEYS = ("restore_card_type", "patch_restore_card")  # restore_card_type wins (ccops.verbs)


def restore_card_problems(doc: YamlDoc, site: Site, hosts: Iterable[Host]) -> list[Problem]:
    """One problem per place that sets a card its hosts cannot run, naming the first such host."""
    found: dict[int, tuple[str, int]] = {}  # line -> (the first host's message, hosts refused there)
    for host in hosts:
        merged = {**site.vars, **host.vars}
        problem = restore_card_problem(host, merged)
        if problem is not None:
            line = doc.line(*_where(doc.data, host, merged))
            message, count = found.get(line, (problem, 0))
            found[line] = (message, count + 1)
    return [
        Problem(doc.path, line, message + (f" (and {count - 1} more hosts set here)" if count > 1 else ""))
        for line, (message, count) in found.items()
    ]


def _where(data: Any, host: Host, merged: dict[str, Any]) -> KeyPath:
    """Key path of the variable that decides the host's card: the most specific layer that sets it."""
    key = CARD_KEYS[0] if merged.get(CARD_KEYS[0]) else CARD_KEYS[1]
    data = data if isinstance(data, dict) else {}
    override = (data.get("hosts") or {}).get(host.name) if isinstance(data.get("hosts"), dict) else None
    if isinstance(override, dict) and isinstance(override.get("vars"), dict) and key in override["vars"]:
        return ("hosts", host.name, "vars", key)
    groups = data.get("groups") if isinstance(data.get("groups"), list) else []
    for i, group in enumerate(groups):
        if isinstance(group, dict) and group.get("name") == host.group:
            if isinstance(group.get("vars"), dict) and key in group["vars"]:
                return ("groups", i, "vars", key)
            break
    return ("vars", key)
