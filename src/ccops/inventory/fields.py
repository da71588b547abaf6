"""Typed reads from a loaded YAML document, each problem tied to its line."""

from __future__ import annotations

import difflib
import enum
from collections.abc import Collection, Mapping
from typing import Any, Final, Literal, TypeGuard, TypeVar, overload

from ccops.inventory.yamldoc import KeyPath, Problem, YamlDoc

T = TypeVar("T")


class _Missing(enum.Enum):
    """No value: the key is absent, or its value was refused (a one-member enum, so checks narrow)."""

    MISSING = enum.auto()


MISSING: Final = _Missing.MISSING
_TYPE_NAMES = {
    bool: "a boolean",
    int: "a number",
    float: "a number",
    str: "text",
    list: "a list",
    dict: "a mapping",
    type(None): "empty",
}


def dotted(keypath: KeyPath) -> str:
    out = ""
    for part in keypath:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


class FieldReader:
    """Collects problems while reading typed fields out of one document."""

    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.problems: list[Problem] = []

    def report(self, keypath: KeyPath, message: str) -> None:
        self.problems.append(self.doc.problem(keypath, message))

    # get() answers the value, of type ``kind``, or ``default`` (None unless given)
    @overload
    def get(
        self,
        mapping: Mapping[str, Any],
        keypath: KeyPath,
        key: str,
        kind: type[T],
        *,
        required: bool = False,
        default: None = None,
        choices: Collection[str] | None = None,
    ) -> T | None: ...

    @overload
    def get(
        self,
        mapping: Mapping[str, Any],
        keypath: KeyPath,
        key: str,
        kind: type[T],
        *,
        required: bool = False,
        default: T,
        choices: Collection[str] | None = None,
    ) -> T: ...

    def get(
        self,
        mapping: Mapping[str, Any],
        keypath: KeyPath,
        key: str,
        kind: type[T],
        *,
        required: bool = False,
        default: T | None = None,
        choices: Collection[str] | None = None,
    ) -> T | None:
        value = mapping.get(key, MISSING)
        if value is MISSING:
            if required:
                self.report(keypath, f"{dotted((*keypath, key))}: required")
            return default
        checked = self.check(value, (*keypath, key), kind, choices)
        return default if checked is MISSING else checked

    def check(
        self, value: object, keypath: KeyPath, kind: type[T], choices: Collection[str] | None = None
    ) -> T | Literal[_Missing.MISSING]:
        """``value`` if it is a ``kind`` (and one of ``choices``), else MISSING with the problem reported."""
        name = dotted(keypath)
        if _is(value, kind):
            if choices is not None and value not in choices:
                self.report(keypath, f"{name}: unknown value {value!r}; expected one of: {', '.join(choices)}")
                return MISSING
            return value
        raw = self.doc.raw.get(keypath)
        if kind is str and raw is not None and value is not None:
            self.report(
                keypath,
                (
                    f"{name}: {raw} is read by YAML 1.1 as {_TYPE_NAMES.get(type(value), type(value).__name__)}"
                    f' ({value!r}); write it in quotes: "{raw}"'
                ),
            )
        else:
            self.report(
                keypath,
                f"{name}: expected {_TYPE_NAMES[kind]}, got {_TYPE_NAMES.get(type(value), type(value).__name__)}",
            )
        return MISSING

    def valid(self, value: object, keypath: KeyPath, kind: type[T]) -> TypeGuard[T]:
        """Whether ``value`` is a ``kind``; when it is not, the problem is reported."""
        return self.check(value, keypath, kind) is not MISSING

    def only_keys(self, mapping: Mapping[str, Any], keypath: KeyPath, allowed: tuple[str, ...]) -> None:
        for key in mapping:
            if key not in allowed:
                hint = difflib.get_close_matches(key, allowed, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else f"; allowed: {', '.join(allowed)}"
                self.report((*keypath, key), f"{dotted((*keypath, key))}: unknown key{extra}")


def _is(value: object, kind: type[T]) -> TypeGuard[T]:
    """Whether ``value`` is a ``kind``: a bool is no number, an int counts as a float."""
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind)
