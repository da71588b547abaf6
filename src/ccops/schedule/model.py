"""``<inventory>/schedules.yml``: which verb runs where and when, unattended, under which standing change.

Read like a site file (ccops.inventory.yamldoc and fields): every problem is one
``FILE:LINE: message`` with a "did you mean" for a mistyped key. A schedule name becomes
part of a systemd unit name, so it must match NAME_PATTERN; nothing from this file ever
becomes a shell string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccops.errors import InventoryError, UsageError
from ccops.inventory.fields import FieldReader
from ccops.inventory.model import Inventory
from ccops.inventory.select import Selector
from ccops.inventory.yamldoc import KeyPath, Problem, load
from ccops.plan.maintenance import DAYS
from ccops.run.request import change_id_problem
from ccops.verbs import VERBS

FILE_NAME = "schedules.yml"
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,47}")  # fits a unit name as it is: no escaping
TIME_PATTERN = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
# the commands a schedule may run, as the words an operator types, and the verb each one is
COMMANDS = {
    "inspect": "inspect",
    "patch": "patch",
    "comply --check": "comply-check",
    "comply --fix": "comply",
    "software apply": "software-apply",
    "software stage": "software-stage",
    # the site rule "re-apply the last approved change to reverted hosts in the next window":
    # a patch of only the hosts whose newest inspection is reverted (ccops.report.reverted), else nothing
    "reapply": "patch",
    # the sites' quarantine policies: what they hold and lift now, as one comply --fix run, else nothing
    "quarantine evaluate": "comply",
    # ccops remediate --urgency LEVEL (options: {urgency: LEVEL}, default high): a patch from a snapshot of
    # just the fixing packages, approved only by the site's rule; the site must allow it (remediate.unattended)
    "remediate": "patch",
}
REAPPLY = "reapply"
QUARANTINE = "quarantine evaluate"
REMEDIATE = "remediate"
REMEDIATE_URGENCIES = ("critical", "emergency", "high", "medium", "low")
KEYS = ("name", "site", "run", "options", "roles", "os", "lines", "limit", "at", "days", "window", "change_id")
SELECTOR_KEYS = ("roles", "os", "lines", "limit")


@dataclass(frozen=True)
class Schedule:
    name: str
    site: str
    run: str  # the command's words, as written ("comply --check")
    verb: str  # the registry verb they name ("comply-check")
    change_id: str  # the standing change every firing carries
    selector: Selector
    options: dict[str, str] = field(default_factory=dict)  # the verb's settings, by playbook variable
    at: str | None = None  # "HH:MM" site time; None with window
    days: tuple[str, ...] = DAYS
    window: bool = False  # fire when each of the site's maintenance windows opens (on ``days`` only)
    file: str = FILE_NAME
    line: int = 1

    def when(self) -> str:
        days = "every day" if set(self.days) == set(DAYS) else ",".join(self.days)
        return f"{days} when the maintenance window opens" if self.window else f"{days} at {self.at}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "site": self.site,
            "run": self.run,
            "verb": self.verb,
            "change_id": self.change_id,
            "selector": self.selector.as_dict(),
            "options": dict(self.options),
            "when": self.when(),
            "file": f"{self.file}:{self.line}",
        }


def schedules_path(inventory: Inventory) -> Path:
    return inventory.root / FILE_NAME


def load_schedules(inventory: Inventory) -> dict[str, Schedule]:
    """Every schedule of the inventory (none when it has no schedules.yml); InventoryError on any problem."""
    path = schedules_path(inventory)
    if not path.exists() and not path.is_symlink():
        return {}
    doc, problems = load(path, _label(path))
    if doc is None:
        raise InventoryError(problems)
    reader = FieldReader(doc)
    data = doc.data if isinstance(doc.data, dict) else {}
    if not isinstance(doc.data, dict) and doc.data is not None:
        reader.report((), "expected a mapping with a schedules: list")
    reader.only_keys(data, (), ("schedules",))
    found: dict[str, Schedule] = {}
    for i, raw in enumerate(reader.get(data, (), "schedules", list, default=[])):
        kp: KeyPath = ("schedules", i)
        if reader.valid(raw, kp, dict):
            schedule = _schedule(reader, inventory, raw, kp)
            if schedule is None:
                continue
            if schedule.name in found:
                reader.report((*kp, "name"), f"schedule {schedule.name!r} is declared twice")
            found[schedule.name] = schedule
    problems += reader.problems
    if problems:
        raise InventoryError(sorted(problems))
    return found


def get_schedule(inventory: Inventory, name: str) -> Schedule:
    schedules = load_schedules(inventory)
    if name not in schedules:
        known = ", ".join(schedules) or "none declared"
        shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in name[:60])
        raise UsageError(f"no schedule {shown!r} in {_label(schedules_path(inventory))} (schedules: {known})")
    return schedules[name]


def _schedule(reader: FieldReader, inventory: Inventory, raw: dict[str, Any], kp: KeyPath) -> Schedule | None:
    before = len(reader.problems)
    reader.only_keys(raw, kp, KEYS)
    name = reader.get(raw, kp, "name", str, required=True)
    if name is not None and not NAME_PATTERN.fullmatch(name):
        reader.report((*kp, "name"), f"name {name[:60]!r}: lower-case letters, digits and '-', at most 48")
    site = reader.get(raw, kp, "site", str, required=True)
    if site is not None and site not in inventory.sites:
        reader.report((*kp, "site"), f"site {site[:60]!r} is not in the inventory ({', '.join(inventory.sites)})")
    run = reader.get(raw, kp, "run", str, required=True, choices=tuple(COMMANDS))
    change_id = reader.get(raw, kp, "change_id", str, required=True)
    if change_id is not None and (problem := change_id_problem(change_id)):
        reader.report((*kp, "change_id"), f"change_id {change_id[:40]!r} {problem}")
    if run == REAPPLY and raw.get("options"):
        reader.report((*kp, "options"), "run: reapply takes no options: it keeps the reverted patch runs' own")
    if run == QUARANTINE and (raw.get("options") or any(raw.get(k) for k in SELECTOR_KEYS)):
        reader.report(kp, "run: quarantine evaluate takes no options or selectors: the site's policy chooses hosts")
    if run == REMEDIATE:
        options = _remediate_options(reader, raw, kp)
    else:
        options = {} if run in (REAPPLY, QUARANTINE) else _options(reader, raw, kp, COMMANDS.get(run or ""))
    selectors = {key: _words(reader, raw, kp, key) for key in SELECTOR_KEYS}
    at, days, window = _when(reader, raw, kp)
    if len(reader.problems) > before or not (name and site and run and change_id):
        return None
    return Schedule(
        name,
        site,
        run,
        COMMANDS[run],
        change_id,
        Selector(sites=(site,), **selectors),
        options,
        at,
        days,
        window,
        reader.doc.path,
        reader.doc.line(*kp),
    )


def _options(reader: FieldReader, raw: dict[str, Any], kp: KeyPath, verb: str | None) -> dict[str, str]:
    given = reader.get(raw, kp, "options", dict, default={})
    if not given or verb is None:
        return {}
    settings = {o.flag.lstrip("-"): o for o in VERBS[verb].options}
    okp = (*kp, "options")
    reader.only_keys(given, okp, tuple(settings))
    out: dict[str, str] = {}
    for key, setting in settings.items():
        value = reader.get(given, okp, key, str, choices=setting.choices or None)
        if value is not None:
            out[setting.extravar] = value
    return out


def _remediate_options(reader: FieldReader, raw: dict[str, Any], kp: KeyPath) -> dict[str, str]:
    given = reader.get(raw, kp, "options", dict, default={})
    okp = (*kp, "options")
    reader.only_keys(given, okp, ("urgency",))
    urgency = reader.get(given, okp, "urgency", str, choices=REMEDIATE_URGENCIES)
    return {"urgency": urgency or "high"}


def _words(reader: FieldReader, raw: dict[str, Any], kp: KeyPath, key: str) -> tuple[str, ...]:
    values = reader.get(raw, kp, key, list, default=[])
    return tuple(v for i, v in enumerate(values) if reader.valid(v, (*kp, key, i), str))


def _when(reader: FieldReader, raw: dict[str, Any], kp: KeyPath) -> tuple[str | None, tuple[str, ...], bool]:
    at = reader.get(raw, kp, "at", str)
    window = reader.get(raw, kp, "window", str, choices=("open",)) == "open"
    days = tuple(
        d for i, d in enumerate(_words(reader, raw, kp, "days")) if reader.check(d, (*kp, "days", i), str, DAYS) == d
    )
    if at is not None and not TIME_PATTERN.fullmatch(at):
        reader.report((*kp, "at"), f'at {at[:40]!r}: a site-local time "HH:MM" (00:00 to 23:59)')
    if (at is None) == (not window):
        reader.report(kp, 'give either at: "HH:MM" (with days:) or window: open, not both or neither')
    return at, days or DAYS, window


def _label(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


__all__ = [
    "COMMANDS",
    "FILE_NAME",
    "NAME_PATTERN",
    "QUARANTINE",
    "REAPPLY",
    "Problem",
    "Schedule",
    "get_schedule",
    "load_schedules",
]
