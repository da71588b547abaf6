"""Typed reads from a loaded YAML document, each problem tied to its line."""

from __future__ import annotations

import difflib
from typing import Any

from ccops.inventory.yamldoc import Problem, YamlDoc

MISSING = object()
_TYPE_NAMES = {bool: "a boolean", int: "a number", float: "a number", str: "text",
               list: "a list", dict: "a mapping", type(None): "empty"}


def dotted(keypath: tuple) -> str:
    out = ""
    for part in keypath:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


class FieldReader:
    """Collects problems while reading typed fields out of one document."""

    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def report(self, keypath: tuple, message: str) -> None:
        self.problems.append(self.doc.problem(keypath, message))

    def get(self, mapping: dict, keypath: tuple, key: str, kind: type, *,
            required: bool = False, default: Any = None, choices: Any = None) -> Any:
        value = mapping.get(key, MISSING)
        if value is MISSING:
            if required:
                self.report(keypath, f"{dotted((*keypath, key))}: required")
            return default
        checked = self.check(value, (*keypath, key), kind, choices)
        return default if checked is MISSING else checked

    def check(self, value: Any, keypath: tuple, kind: type, choices: Any = None) -> Any:
        name = dotted(keypath)
        if not _is(value, kind):
            raw = self.doc.raw.get(keypath)
            if kind is str and raw is not None and value is not None:
                self.report(keypath, (
                    f"{name}: {raw} is read by YAML 1.1 as {_TYPE_NAMES.get(type(value), type(value).__name__)}"
                    f" ({value!r}); write it in quotes: \"{raw}\""))
            else:
                self.report(keypath, f"{name}: expected {_TYPE_NAMES[kind]}, "
                                     f"got {_TYPE_NAMES.get(type(value), type(value).__name__)}")
            return MISSING
        if choices is not None and value not in choices:
            self.report(keypath, f"{name}: unknown value {value!r}; expected one of: {', '.join(choices)}")
            return MISSING
        return value

    def only_keys(self, mapping: dict, keypath: tuple, allowed: tuple[str, ...]) -> None:
        for key in mapping:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else f"; allowed: {', '.join(allowed)}"
                self.report((*keypath, key), f"{dotted((*keypath, key))}: unknown key{extra}")


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)
