"""A saved plan: what `ccops plan VERB --save FILE` wrote, and the check that a run still matches it.

The file is what a reviewer approved in a pull request. `ccops VERB --plan FILE` re-plans from
the same request and refuses, naming the first thing that differs, when the inventory files, what
the verb's registry entry pins (Verb.pins: the catalogue, an image's definition and build), the
content the verb installs, the selected hosts or the verb and its options changed.
The file is untrusted input: it is read against a declared shape, and a file that does not fit
is one line naming it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccops import __version__
from ccops.errors import CcopsError, RefusedError
from ccops.inventory.select import Selector
from ccops.plan.build import waves_record
from ccops.run.request import RunRequest
from ccops.text.safe_text import visible
from ccops.verbs import Verb, hook

SCHEMA = "ccops-plan"
VERSION = 2  # 2: "pins" (any verb's pinned files and builds) replaced "catalogue_files"
MAX_BYTES = 64 * 1024 * 1024  # a plan of the largest fleet is a few MB; anything bigger is not a plan
_SELECTOR_KEYS = ("sites", "roles", "os", "lines", "limit")


@dataclass(frozen=True)
class SavedPlan:
    """The parts of a saved plan a run is checked against."""

    verb: str
    inventory: Path
    selector: Selector
    batch_size: int | None
    emergency: bool
    options: dict[str, str]
    inventory_files: dict[str, str]
    pins: dict[str, str]
    content_sha256: str | None
    waves: list[dict[str, Any]]

    def request(self, change_id: str | None, forks: int) -> RunRequest:
        """The run request the plan was made from, with this run's change id and forks."""
        return RunRequest(
            self.inventory,
            self.verb,
            self.selector,
            change_id=change_id,
            batch_size=self.batch_size,
            forks=forks,
            emergency=self.emergency,
            options=dict(self.options),
        )


def plan_document(asked: RunRequest, prepared: Any) -> dict[str, Any]:
    """The saved plan: the request as asked (options before content filled them in) and what it planned."""
    plan = prepared.plan
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "ccops_version": __version__,
        "verb": plan.verb.name,
        "inventory": str(prepared.request.inventory),
        "selectors": plan.selector.as_dict(),
        "batch_size": asked.batch_size,
        "emergency": asked.emergency,
        "options": {k: v for k, v in asked.options.items() if v is not None},
        "inventory_files": prepared.inventory_files,
        "pins": pins_of(plan.verb, prepared.request),
        "content_sha256": content_digest(plan.content) if plan.verb.content else None,
        "hosts": [h.name for h in plan.hosts],
        "waves": waves_record(plan.waves),
        "plan": prepared.plan_document(),
    }


def write_saved(path: Path, document: dict[str, Any]) -> None:
    """Write next to the target and rename, so a reviewer never sees half a plan."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise CcopsError(f"{path}: cannot write the plan ({exc.strerror or exc})") from None


def read_saved(path: Path) -> SavedPlan:
    """Parse a saved plan against its shape; anything else is one line naming the file."""
    try:
        if not path.is_file():
            raise ValueError("not a regular file")
        if path.stat().st_size > MAX_BYTES:
            raise ValueError("too large to be a plan")
        data = json.loads(path.read_text(encoding="utf-8"))
        return _parse(data)
    except (OSError, UnicodeDecodeError) as exc:
        raise CcopsError(f"{path}: cannot read the plan ({getattr(exc, 'strerror', None) or exc})") from None
    except RecursionError:
        raise CcopsError(f"{path}: not a ccops plan (nested too deeply)") from None
    except ValueError as exc:
        raise CcopsError(f"{path}: not a ccops plan ({str(exc)[:200]})") from None


def _parse(data: Any) -> SavedPlan:
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ValueError(f"no schema {SCHEMA!r}; write one with ccops plan VERB --save FILE")
    if data.get("version") != VERSION:
        raise ValueError(f"schema version {str(data.get('version'))[:20]!r}; this ccops reads version {VERSION}")
    selectors = _mapping(data, "selectors")
    unknown = set(selectors) - set(_SELECTOR_KEYS)
    if unknown:
        raise ValueError(f"unknown selector {sorted(unknown)[0][:40]!r}")
    batch_size = data.get("batch_size")
    if batch_size is not None and (type(batch_size) is not int or batch_size < 1):
        raise ValueError("batch_size is not a positive whole number")
    if type(data.get("emergency")) is not bool:
        raise ValueError("emergency is not true or false")
    content = data.get("content_sha256")
    if content is not None and not _is_digest(content):
        raise ValueError("content_sha256 is not a sha256")
    waves = data.get("waves")
    if not isinstance(waves, list) or not all(_is_wave(w) for w in waves):
        raise ValueError("waves are not a list of waves of batches of host names")
    return SavedPlan(
        verb=_text(data, "verb"),
        inventory=Path(_text(data, "inventory")),
        selector=Selector(**{k: tuple(_texts(selectors, k)) for k in selectors}),
        batch_size=batch_size,
        emergency=data["emergency"],
        options={k: _text(_mapping(data, "options"), k) for k in _mapping(data, "options")},
        inventory_files=_digests(data, "inventory_files"),
        pins=_digests(data, "pins"),
        content_sha256=content,
        waves=waves,
    )


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key} is not a mapping")
    return value


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > 4096 or "\0" in value:
        raise ValueError(f"{str(key)[:40]} is not a text value")
    return value


def _texts(data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 512 for v in value):
        raise ValueError(f"selector {key} is not a list of names")
    return value


def _digests(data: dict[str, Any], key: str) -> dict[str, str]:
    value = _mapping(data, key)
    if not all(isinstance(k, str) and 0 < len(k) <= 512 and _is_digest(v) for k, v in value.items()):
        raise ValueError(f"{key} is not a mapping of names to sha256")
    return value


def _is_digest(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _is_wave(wave: Any) -> bool:
    return (
        isinstance(wave, dict)
        and isinstance(wave.get("name"), str)
        and isinstance(wave.get("batches"), list)
        and all(
            isinstance(b, dict)
            and isinstance(b.get("site"), str)
            and isinstance(b.get("hosts"), list)
            and all(isinstance(h, str) for h in b["hosts"])
            for b in wave["batches"]
        )
    )


def pins_of(verb: Verb, request: RunRequest) -> dict[str, str]:
    """What the verb's registry entry pins for this request ({label: sha256}); nothing without a pins hook."""
    return {str(k): str(v) for k, v in hook(verb.pins)(request).items()} if verb.pins else {}


def content_digest(content: dict[str, Any]) -> str:
    """sha256 of what the verb's content hook planned (versions per host, snapshot ids, refusals)."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def differences(saved: SavedPlan, prepared: Any) -> list[str]:
    """What differs between the saved plan and the plan made now, one phrase each (empty: the same)."""
    from ccops.run.prepare import inventory_changes

    out = [f"inventory file {c}" for c in inventory_changes(prepared.inventory, saved.inventory_files)]
    now, approved = pins_of(prepared.verb, prepared.request), saved.pins
    out += [f"{n} changed" for n in now if n in approved and now[n] != approved[n]]  # in the hook's order
    out += [f"{n} removed" for n in approved if n not in now]
    out += [f"{n} added" for n in now if n not in approved]
    waves = waves_record(prepared.plan.waves)
    if waves != saved.waves:
        out.append(_host_change(saved.waves, waves))
    if prepared.verb.content and content_digest(prepared.plan.content) != saved.content_sha256:
        out.append("the content the run would install changed (approved snapshot, catalogue or asset records)")
    return out


def _host_change(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> str:
    def names(waves: list[dict[str, Any]]) -> set[str]:
        return {h for w in waves for b in w["batches"] for h in b["hosts"]}

    gone, new = sorted(names(before) - names(after)), sorted(names(after) - names(before))
    if not gone and not new:
        return "the waves or batches changed (same hosts, another order)"
    parts = [f"{len(new)} host(s) now selected that the plan did not have ({', '.join(new[:3])})"] if new else []
    parts += [f"{len(gone)} planned host(s) no longer selected ({', '.join(gone[:3])})"] if gone else []
    return "; ".join(parts)


def refuse_if_changed(path: Path, saved: SavedPlan, prepared: Any) -> None:
    if changes := differences(saved, prepared):
        more = f" (and {len(changes) - 1} more)" if len(changes) > 1 else ""
        message = f"{path}: the plan no longer matches: {changes[0]}{more}; plan again and review it"
        raise RefusedError(visible(message))  # host and file names came from files: shown, never obeyed


def check_request(path: Path, saved: SavedPlan, verb: Any, own: tuple[str, ...] = ()) -> None:
    """The plan is for this verb, and sets only this verb's own settings (never any other playbook variable).

    ``own``: settings a verb's bespoke command passes itself (deploy's image, version and mode)."""
    if saved.verb != verb.name:
        raise RefusedError(visible(f"{path}: the plan is for {saved.verb[:60]}, not {verb.name}"))
    known = {o.extravar for o in verb.options} | set(own)
    if unknown := sorted(set(saved.options) - known):
        raise CcopsError(
            visible(f"{path}: not a ccops plan (option {unknown[0][:40]!r} is not a setting of {verb.name})")
        )
