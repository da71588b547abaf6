"""What a run would do, and where, computed without touching any host.

The same functions drive real runs: a run executes exactly the waves and
batches its plan shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ccops.errors import CcopsError
from ccops.inventory.model import Host, Inventory
from ccops.inventory.select import Selection, Selector
from ccops.paths import project_root
from ccops.verbs import Step, Verb, restore_card_type


@dataclass
class Batch:
    site: str
    hosts: list[Host]


@dataclass
class Wave:
    name: str
    batches: list[Batch] = field(default_factory=list)

    @property
    def hosts(self) -> list[Host]:
        return [h for b in self.batches for h in b.hosts]


@dataclass(frozen=True)
class PlannedStep:
    """One (role, action) of a verb with the task file it runs on these hosts."""

    role: str
    action: str
    file: str  # roles/<role>/tasks/<name>.yml, relative to the project
    note: str = ""

    def label(self) -> str:
        return f"{self.role}: {Path(self.file).name}" + (f" ({self.note})" if self.note else "")

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "action": self.action, "file": self.file, "note": self.note}


@dataclass
class Action:
    """What a set of hosts gets: one row per distinct OS variant and variables."""

    os: str
    playbook: str
    steps: list[PlannedStep]  # what runs on each host, in order
    on_failure: list[PlannedStep]  # what runs instead when the change fails
    vars: dict[str, Any]
    hosts: list[str] = field(default_factory=list)

    @property
    def tasks(self) -> list[str]:
        return [s.label() for s in self.steps]


@dataclass
class Plan:
    verb: Verb
    inventory: Inventory
    selector: Selector
    waves: list[Wave]
    actions: list[Action]
    excluded: dict[str, list[Host]]
    content: dict[str, Any] = field(default_factory=dict)  # what the verb's content hook planned per host
    run_options: dict[str, Any] = field(default_factory=dict)  # the verb's own settings as the run passes them
    emergency: bool = False  # the run ignores maintenance windows
    forks: int = 25  # hosts at once in a batch (the run's --forks): the run-time estimate counts them

    @property
    def hosts(self) -> list[Host]:
        return [h for w in self.waves for h in w.hosts]


def build_plan(
    inventory: Inventory, verb: Verb, selector: Selector, selection: Selection, batch_size: int | None = None
) -> Plan:
    waves = rollout_waves(inventory, verb, selection.hosts, batch_size)
    return Plan(verb, inventory, selector, waves, host_actions(verb, selection.hosts, inventory), selection.excluded)


def rollout_waves(inventory: Inventory, verb: Verb, hosts: list[Host], batch_size: int | None = None) -> list[Wave]:
    """Waves across sites: each site's canary, then its percentage waves, in batches."""
    by_site: dict[str, list[Host]] = {}
    for host in hosts:
        by_site.setdefault(host.site, []).append(host)
    if not verb.changes_hosts:
        # read-only verbs touch every host at once; batches only keep Ansible processes small
        return [Wave("all", [Batch(site, site_hosts) for site, site_hosts in by_site.items()])]
    waves: dict[str, Wave] = {}
    for site, site_hosts in by_site.items():
        rollout = inventory.sites[site].rollout
        size = batch_size or rollout.get("batch_size")
        if not size:
            raise CcopsError(
                f"{inventory.sites[site].file}: site {site} has no rollout.batch_size; "
                "set it or pass --batch-size (ccops never guesses a batch size)"
            )
        for name, wave_hosts in _site_waves(site_hosts, rollout):
            wave = waves.setdefault(name, Wave(name))
            wave.batches += [Batch(site, wave_hosts[i : i + size]) for i in range(0, len(wave_hosts), size)]
    return list(waves.values())


def _site_waves(hosts: list[Host], rollout: dict[str, Any]) -> list[tuple[str, list[Host]]]:
    canary = _spread(hosts, min(rollout.get("canary", 0), len(hosts)))
    picked = {h.name for h in canary}
    rest = [h for h in hosts if h.name not in picked]
    out = [("canary", canary)] if canary else []
    done = 0
    for i, pct in enumerate(rollout.get("waves") or ["100%"]):
        end = len(rest) if pct == "100%" else math.ceil(len(rest) * int(pct[:-1]) / 100)
        if end > done:
            out.append((f"wave {i + 1} ({pct})", rest[done:end]))
            done = end
    if done < len(rest):  # waves that stop short of 100 % still leave no host behind silently
        out.append(("remainder", rest[done:]))
    return out


def _spread(hosts: list[Host], count: int) -> list[Host]:
    """A canary that covers as many groups (roles x OS variants) as it can."""
    groups: dict[str, list[Host]] = {}
    for host in hosts:
        groups.setdefault(host.group, []).append(host)
    picked: list[Host] = []
    depth = 0
    while len(picked) < count:
        for members in groups.values():
            if depth < len(members) and len(picked) < count:
                picked.append(members[depth])
        depth += 1
    return picked


def waves_record(waves: list[Wave]) -> list[dict[str, Any]]:
    """Waves as plain data: what plans print as JSON and what run records keep for resume."""
    return [
        {"name": w.name, "batches": [{"site": b.site, "hosts": [h.name for h in b.hosts]} for b in w.batches]}
        for w in waves
    ]


def host_actions(verb: Verb, hosts: list[Host], inventory: Inventory) -> list[Action]:
    defaults = role_defaults(verb.roles)
    rows: dict[str, Action] = {}
    # hosts of one group share their variables: their row is found once, not once per host
    known: dict[tuple[str, str, str], tuple[dict[str, Any], str, str, dict[str, Any]]] = {}
    for host in hosts:
        group = (host.site, host.group, host.os)
        seen = known.get(group)
        if seen is not None and seen[0] == host.vars:
            _, key, card, changed = seen
        else:
            merged = {**inventory.sites[host.site].vars, **host.vars}
            card = restore_card_type(merged)
            changed = {k: v for k, v in sorted(merged.items()) if k in defaults and defaults[k] != v}
            key = f"{host.os}|{card}|{changed!r}"  # changed is built in sorted key order
            known[group] = (host.vars, key, card, changed)
        row = rows.get(key)
        if row is None:
            row = rows[key] = Action(
                host.os,
                f"playbooks/{verb.playbook}",
                planned_steps(verb.steps, host.os_family, card),
                planned_steps(verb.on_failure, host.os_family, card),
                changed,
            )
        row.hosts.append(host.name)
    return list(rows.values())


def planned_steps(steps: tuple[Step, ...], family: str, card: str) -> list[PlannedStep]:
    """The steps that run on a host of this OS family and restore card type (a card of none runs nothing)."""
    out = []
    for step in steps:
        file = step.task_file(family, card)
        if file is not None:
            out.append(PlannedStep(step.role, step.action, file, step.note))
    return out


def role_defaults(roles: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for role in roles:
        path = project_root() / "roles" / role / "defaults" / "main.yml"
        if path.exists():
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C build of the safe loader
            out.update(yaml.load(path.read_text(), Loader=loader) or {})  # noqa: S506
    return out


def inventory_label(inventory: Inventory) -> str:
    try:
        return str(inventory.root.relative_to(Path.cwd()))
    except ValueError:
        return str(inventory.root)
