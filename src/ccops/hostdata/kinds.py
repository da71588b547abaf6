"""The parts a host-document schema is declared with, and the one walk that parses a value into them.

A host controls every value its modules return, so nothing it sends is trusted for its type or
size. Each kind parses a value into its declared shape or says why not; a value that does not fit
is dropped (in a record) or left out (in a list), and the reason is noted with the field's path,
e.g. ``disks[2].mount: expected text, got list``. Numbers are finite, text carries no NUL and has
a maximum length, lists and maps a maximum size, nesting a maximum depth.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 4096
MAX_ITEMS = 10_000
MAX_DEPTH = 8  # free-form values (an unknown field) nest at most this deep
MAX_EXTRA = 100  # undeclared fields kept (as evidence) per record
MAX_NOTES = 50  # damage notes kept per document: a host cannot flood its record with them


class Unfit(Exception):
    """The value does not fit its kind: the message says what was expected and what came."""


JSON_NAMES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),  # before int: a bool is an int to Python
    (int, "integer"),
    (str, "text"),
    ((list, tuple), "list"),
    (dict, "mapping"),
)


def what(value: Any) -> str:
    """The JSON name of a value's type, as a damage note shows it."""
    if isinstance(value, float):
        return "number" if math.isfinite(value) else f"non-finite number {value!r}"
    return next((name for kind, name in JSON_NAMES if isinstance(value, kind)), type(value).__name__)


_DIGITS = re.compile(r"[0-9]{1,19}")


def number(value: int | float) -> str:
    """A number for a damage note: a whole number too big for a float (10**400) is named by its size."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"a whole number of {value.bit_length()} bits"
    return f"{value:g}" if isinstance(value, float) else str(value)


def usable_key(key: Any, max_len: int = 256) -> bool:
    """A mapping key a host sent that can be kept: text, not empty, bounded, no NUL, Unicode."""
    return isinstance(key, str) and 0 < len(key) <= max_len and "\x00" not in key and unicode_text(key)


# JSON can carry "\ud800", which Python reads as a lone surrogate: no UTF-8 encoder (a digest, a file,
# a terminal) takes it, so a certificate's digest failed after the host was wiped
_SURROGATE = re.compile("[\ud800-\udfff]")


def mend(text: str) -> str:
    """Text with NUL removed and unpaired surrogates replaced: what every encoder and SQLite take."""
    text = text.replace("\x00", "")
    return text if unicode_text(text) else _SURROGATE.sub("\ufffd", text)


def unicode_text(text: str) -> bool:
    """Text every UTF-8 encoder takes (ASCII is checked first: most of what hosts say)."""
    return text.isascii() or _SURROGATE.search(text) is None


# A field's path, built as a cheap chain of (parent, step) and spelt only for a damage note:
# a str step is a field name, an int a list index, a 1-tuple a mapping key.
At = tuple[Any, Any] | None


def spell(at: At) -> str:
    steps: list[str] = []
    while at is not None:
        at, step = at
        if isinstance(step, int):
            steps.append(f"[{step}]")
        elif isinstance(step, tuple):
            steps.append(f"[{str(step[0])[:40]!r}]")
        else:  # a declared field's name; an undeclared one (any text a host sent) is cut and quoted
            steps.append(f".{step}" if len(step) <= 64 and step.isprintable() else f"[{step[:40]!r}]")
    return "".join(reversed(steps)).removeprefix(".")


@dataclass
class Notes:
    """Damage found while parsing one document, path by path."""

    items: list[str] = field(default_factory=list)
    dropped: int = 0

    def add(self, path: At, why: str) -> None:
        if len(self.items) < MAX_NOTES:
            self.items.append(f"{spell(path) or '(document)'}: {why}")
        else:
            self.dropped += 1

    def lines(self) -> list[str]:
        return self.items + ([f"... and {self.dropped} more"] if self.dropped else [])


class Kind:
    """One declared shape. ``parse`` returns the value in that shape or raises Unfit."""

    nullable: bool = False

    def parse(self, value: Any, path: At, notes: Notes) -> Any:
        raise NotImplementedError

    def empty(self) -> Any:
        """What stands in for an unfit field of a record: an empty list or mapping; None drops the field."""
        return None

    def take(self, value: Any, path: At, notes: Notes) -> Any:
        """Parse, letting None through when the field may be null."""
        if value is None and self.nullable:
            return None
        return self.parse(value, path, notes)


@dataclass
class Text(Kind):
    max_len: int = MAX_TEXT
    nullable: bool = False
    numbers: bool = True  # a number where text is declared (a version 12, a build 22631) reads as its text

    def plain(self, value: Any) -> bool:
        """Text that fits as it is (the common case, checked first)."""
        return type(value) is str and len(value) <= self.max_len and "\x00" not in value and unicode_text(value)

    def parse(self, value: Any, path: At, notes: Notes) -> str:
        if self.plain(value):
            return value  # type: ignore[no-any-return]
        if isinstance(value, int | float) and not isinstance(value, bool) and self.numbers:
            if isinstance(value, float) and not math.isfinite(value):
                raise Unfit(f"expected text, got {what(value)}")
            value = str(value)
        if not isinstance(value, str):
            raise Unfit(f"expected text, got {what(value)}")
        text: str = value
        if "\x00" in text:
            notes.add(path, "NUL characters removed")
            text = text.replace("\x00", "")
        if not unicode_text(text):
            notes.add(path, "unpaired surrogates replaced")
            text = _SURROGATE.sub("\ufffd", text)
        if len(text) > self.max_len:
            notes.add(path, f"text of {len(text)} characters cut to {self.max_len}")
            text = text[: self.max_len]
        return text


@dataclass
class Int(Kind):
    low: int = 0
    high: int = 2**53  # what every JSON reader keeps exactly
    nullable: bool = False

    def parse(self, value: Any, path: At, notes: Notes) -> int:
        if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
            value = int(value)  # Ansible's templating can hand an integer back as its text (ASCII digits only:
            # "²" is a digit to str.isdigit and no number to int)
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise Unfit(f"expected a whole number, got {what(value)}")
        if not self.low <= value <= self.high:
            raise Unfit(f"{number(value)} is outside {self.low}..{self.high}")
        return value


@dataclass
class Num(Kind):
    low: float = 0
    high: float = 1e15
    nullable: bool = False

    def parse(self, value: Any, path: At, notes: Notes) -> float | int:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise Unfit(f"expected a number, got {what(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise Unfit(f"expected a finite number, got {value!r}")
        if not self.low <= value <= self.high:
            raise Unfit(f"{number(value)} is outside {self.low:g}..{self.high:g}")
        return value


@dataclass
class Bool(Kind):
    nullable: bool = False

    def parse(self, value: Any, path: At, notes: Notes) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise Unfit(f"expected true or false, got {what(value)}")


@dataclass
class ListOf(Kind):
    item: Kind
    max_items: int = MAX_ITEMS
    nullable: bool = False

    def empty(self) -> list[Any]:
        return []

    def parse(self, value: Any, path: At, notes: Notes) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise Unfit(f"expected a list, got {what(value)}")
        if len(value) > self.max_items:
            notes.add(path, f"{len(value)} entries, kept the first {self.max_items}")
            value = value[: self.max_items]
        if isinstance(self.item, Text) and all(self.item.plain(v) for v in value):
            return list(value)  # lists of plain text (logs, names) are most of a report: checked at once
        out = []
        for i, item in enumerate(value):
            at = (path, i)
            try:
                out.append(self.item.take(item, at, notes))
            except Unfit as why:
                notes.add(at, str(why))
        return out


@dataclass
class MapOf(Kind):
    """A mapping of free keys (package names) to one kind of value."""

    value: Kind
    max_items: int = MAX_ITEMS
    max_key: int = 256
    nullable: bool = False

    def empty(self) -> dict[str, Any]:
        return {}

    def usable(self, key: Any) -> bool:
        return usable_key(key, self.max_key)

    def parse(self, value: Any, path: At, notes: Notes) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Unfit(f"expected a mapping, got {what(value)}")
        if len(value) > self.max_items:
            notes.add(path, f"{len(value)} entries, kept the first {self.max_items}")
        elif isinstance(self.value, Text) and _plain_texts(value, self.max_key, self.value.max_len):
            return dict(value)  # package name -> version: thousands of plain entries, checked at once
        out: dict[str, Any] = {}
        for key, item in list(value.items())[: self.max_items]:
            at = (path, (key,))
            if not self.usable(key):
                notes.add(at, "unusable key")
                continue
            try:
                out[key] = self.value.take(item, at, notes)
            except Unfit as why:
                notes.add(at, str(why))
        return out


def _plain_texts(mapping: dict[Any, Any], max_key: int, max_value: int) -> bool:
    """Every key usable and every value plain text (usable_key, Text.plain), checked over all of them at once:
    a package set of thousands is read on every fleet view."""
    keys, values = list(mapping), list(mapping.values())
    if not keys:
        return True
    if set(map(type, keys)) != {str} or set(map(type, values)) != {str}:
        return False
    if min(map(len, keys)) == 0 or max(map(len, keys)) > max_key or max(map(len, values)) > max_value:
        return False
    joined = "\x01".join(keys + values)  # one scan for NUL and lone surrogates, not one a text
    return "\x00" not in joined and unicode_text(joined)


@dataclass
class Record(Kind):
    """A mapping with declared fields. Unknown fields go through ``extra`` (bounded free-form) or are dropped."""

    fields: dict[str, Kind]
    extra: Kind | None = None
    nullable: bool = False
    # fields a reader indexes: without a usable one the record is unfit (left out of its list, named);
    # ``defaults`` fill a field that may be missing with what a reader shows instead
    required: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)

    def empty(self) -> dict[str, Any]:
        return {}

    def parse(self, value: Any, path: At, notes: Notes) -> dict[str, Any]:
        out = self._fields(value, path, notes)
        missing = [name for name in self.required if out.get(name) is None]
        if missing:
            raise Unfit(f"no usable {', '.join(missing)}")
        return {**self.defaults, **out} if self.defaults else out

    def _fields(self, value: Any, path: At, notes: Notes) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Unfit(f"expected a mapping, got {what(value)}")
        out: dict[str, Any] = {}
        extras = 0
        for key, item in value.items():
            at = (path, str(key))
            kind = self.fields.get(key, self.extra) if isinstance(key, str) else None
            if kind is None:
                continue  # not part of this document: never stored, never read
            if key not in self.fields:  # an undeclared field kept as evidence: a bounded name, a bounded count
                if not usable_key(key):
                    notes.add((path, (key,)), "unusable key")
                    continue
                extras += 1
                if extras > MAX_EXTRA:
                    notes.add(path, f"more than {MAX_EXTRA} undeclared fields, kept the first {MAX_EXTRA}")
                    break
            try:
                out[key] = kind.take(item, at, notes)
            except Unfit as why:
                notes.add(at, str(why))
                if kind.empty() is not None:  # a reader iterates an empty list, never a number
                    out[key] = kind.empty()
        return out


@dataclass
class Free(Kind):
    """Any JSON value of bounded depth and size: for fields no reader interprets, kept as evidence."""

    depth: int = MAX_DEPTH
    max_items: int = 1000
    max_len: int = MAX_TEXT
    nullable: bool = True

    def parse(self, value: Any, path: At, notes: Notes) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return Num(low=-1e300, high=1e300).parse(value, path, notes)
        if isinstance(value, str):
            return Text(self.max_len).parse(value, path, notes)
        if self.depth <= 0:
            raise Unfit(f"nested deeper than {MAX_DEPTH} levels")
        inner = Free(self.depth - 1, self.max_items, self.max_len)
        if isinstance(value, list | tuple):
            return ListOf(inner, self.max_items).parse(value, path, notes)
        if isinstance(value, dict):
            return MapOf(inner, self.max_items).parse(value, path, notes)
        raise Unfit(f"expected a JSON value, got {what(value)}")


def parse(kind: Kind, value: Any) -> tuple[Any, list[str]]:
    """``value`` in the declared shape, and the damage notes (empty when it fitted)."""
    notes = Notes()
    try:
        return kind.take(value, None, notes), notes.lines()
    except Unfit as why:
        notes.add(None, str(why))
        return None, notes.lines()
