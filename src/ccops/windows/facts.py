"""Reading facts a Windows seat reported (JSON it controls) against a declared shape.

Each getter returns the value or raises :class:`DamagedFacts` naming the key, so a seat
answering ``"enabled": "yes"`` or ``"members": 7`` fails that host in one line instead
of deciding anything from it.
"""

from __future__ import annotations

from typing import Any


class DamagedFacts(ValueError):
    """A fact the seat reported does not have the declared shape."""


def _get(facts: dict[str, Any], key: str) -> Any:
    if not isinstance(facts, dict) or key not in facts:
        raise DamagedFacts(f"{key}: missing from what the seat reported")
    return facts[key]


def text(facts: dict[str, Any], key: str) -> str:
    value = _get(facts, key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DamagedFacts(f"{key}: {type(value).__name__} where text was expected")
    return value


def _listed(facts: dict[str, Any], key: str, kind: type, what: str) -> list[Any]:
    value = _get(facts, key)
    value = [] if value is None else value
    if isinstance(value, kind):  # PowerShell sends a one-item array as the item
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, kind) for v in value):
        raise DamagedFacts(f"{key}: not a list of {what}")
    return value


def texts(facts: dict[str, Any], key: str) -> list[str]:
    return _listed(facts, key, str, "text")


def integer(facts: dict[str, Any], key: str, *, optional: bool = False) -> int | None:
    value = facts.get(key) if optional and isinstance(facts, dict) else _get(facts, key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DamagedFacts(f"{key}: {value!r:.40} is not a whole number")
    return value


def boolean(facts: dict[str, Any], key: str) -> bool:
    value = _get(facts, key)
    if not isinstance(value, bool):
        raise DamagedFacts(f"{key}: {value!r:.40} is not true or false")
    return value


def items(facts: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return _listed(facts, key, dict, "objects")
