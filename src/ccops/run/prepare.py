"""Prepare a run: the plan a reviewer approves, frozen so that the run executes exactly it.

The inventory is loaded and validated once; the plan (waves, batches, what runs on
each host) and the inventory files it came from are kept. Every batch's Ansible
reads its own hosts' part of a snapshot of the planned hosts, never the site files again, so an edit made
while the run goes on cannot change what it does; the edit is detected and named.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ccops.errors import CcopsError, UsageError
from ccops.inventory.export import SNAPSHOT_SUFFIX, batch_snapshot, snapshot
from ccops.inventory.load import load_inventory
from ccops.inventory.model import Host, Inventory
from ccops.inventory.offline import refuse_offline as refuse_offline  # noqa: PLC0414 - re-exported for run, resume, staging
from ccops.inventory.select import select
from ccops.plan.build import Plan, build_plan
from ccops.plan.render import plan_json
from ccops.run.request import RunRequest, change_id_problem
from ccops.text.templating import refuse_templates
from ccops.verbs import Verb, get_verb


@dataclass
class PreparedRun:
    """A run's request and the plan that answers it, ready to execute."""

    request: RunRequest  # its inventory path made absolute: a resume may start from another folder
    plan: Plan
    inventory_files: dict[str, str]  # sha256 of every inventory file when the plan was made

    @property
    def verb(self) -> Verb:
        return self.plan.verb

    @property
    def inventory(self) -> Inventory:
        return self.plan.inventory

    def plan_document(self) -> dict[str, Any]:
        """The plan as `ccops plan VERB --output json` shows it; the run record keeps exactly this."""
        return plan_json(self.plan)


def prepare(request: RunRequest, lifecycle: tuple[str, ...] | None = None) -> PreparedRun:
    """``lifecycle`` narrows the verb's states for one command (deploy --converge-only: active hosts)."""
    if request.change_id is not None and (problem := change_id_problem(request.change_id)):
        raise UsageError(f"change id {request.change_id[:40]!r} {problem}")
    # abspath, not resolve: the folder as the operator named it, only anchored
    request = replace(request, inventory=Path(os.path.abspath(request.inventory)))  # noqa: PTH100
    inventory = load_inventory(request.inventory)
    verb = get_verb(request.verb)
    selection = select(inventory, request.selector, lifecycle or verb.lifecycle)
    plan = build_plan(inventory, verb, request.selector, selection, request.batch_size)
    plan.run_options = {o.extravar: request.options.get(o.extravar) for o in verb.options}
    plan.emergency = request.emergency
    plan.forks = request.forks
    if verb.content:
        extravars, plan.content = verb_content(verb, inventory, plan.hosts, request.options)
        request = replace(request, options={**request.options, **extravars})
    refuse_templates(request.options)
    return PreparedRun(request, plan, inventory.file_digests())


def verb_content(
    verb: Verb, inventory: Inventory, hosts: list[Host], options: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a verb with a content hook (software) installs on these hosts: playbook variables and plan rows."""
    module, _, function = verb.content.partition(":")
    hook = getattr(importlib.import_module(module), function)
    extravars, document = hook(inventory, hosts, options)
    return dict(extravars), dict(document)


def inventory_changes(inventory: Inventory, approved: dict[str, str]) -> list[str]:
    """What changed in the inventory's files since the plan was approved, one phrase per file."""
    now = inventory.file_digests()
    out = [f"{name} changed" for name in approved if name in now and now[name] != approved[name]]
    out += [f"{name} removed" for name in approved if name not in now]
    out += [f"{name} added" for name in now if name not in approved]
    return out


def write_snapshot(folder: Path, prepared: PreparedRun) -> Path:
    """The planned hosts' inventory as this run was approved with (private to the operator)."""
    return _write_private(folder / f"inventory{SNAPSHOT_SUFFIX}", snapshot(prepared.inventory, prepared.plan.hosts))


def read_snapshot(path: Path) -> dict[str, Any]:
    """A run's approved snapshot, read once per run (or resumption) to cut each batch's part from it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data["hosts"], dict) or not isinstance(data["groups"], dict):
            raise TypeError("not an object of groups and hosts")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CcopsError(f"{path}: not a readable run snapshot ({exc}); the run cannot go on") from None
    return data


def write_batch_snapshot(folder: Path, approved: dict[str, Any], ident: str, names: list[str]) -> Path:
    """What one batch's Ansible reads: only its hosts, cut from the run's approved snapshot."""
    missing = [name for name in names if name not in approved["hosts"]]
    if missing:
        raise CcopsError(f"host {missing[0]} is not in the run's approved snapshot; the run cannot go on")
    return _write_private(folder / f"batch-{ident}{SNAPSHOT_SUFFIX}", batch_snapshot(approved, names))


def _write_private(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    tmp.replace(path)
    return path


def read_approved(record_plan: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Waves and inventory file digests from a run record (older records kept only the waves)."""
    if isinstance(record_plan, list):
        return record_plan, {}
    if isinstance(record_plan, dict) and isinstance(record_plan.get("waves"), list):
        return record_plan["waves"], dict(record_plan.get("inventory_files") or {})
    raise CcopsError("the run record holds no readable plan; it cannot be resumed")
