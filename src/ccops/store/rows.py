"""Rows of the store read defensively: a bad column marks its row damaged, never fails the listing.

Rows can go bad through hand edits, a disk error or another tool writing the
file. One such row must not hide the rest of the history, so each column is
checked for its type and JSON columns are parsed one by one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from ccops.store.db import BadText

DAMAGED = "damaged"
TEXT = ("id", "verb", "operator", "inventory", "inventory_sha256", "started", "status")
OPTIONAL_TEXT = ("change_id", "git_commit", "ended", "message")
OPTIONAL_INT = ("exit_code", "pid")
# plan: the approved plan document (older records kept only its list of waves)
# column: (the type(s) its JSON must have, the value that stands in for it when empty or damaged)
JSON_COLUMNS: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "selectors": (dict, {}),
    "request": (dict, {}),
    "plan": ((dict, list), []),
}


def _text(value: Any, optional: bool) -> tuple[Any, bool]:
    if value is None:
        return None if optional else "?", not optional
    if isinstance(value, BadText) or not isinstance(value, str):
        return str(value), True
    return value, False


def _int(value: Any) -> tuple[int | None, bool]:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value, False
    return None, True


def _json(value: Any, kind: type | tuple[type, ...], empty: Any) -> tuple[Any, bool]:
    if value is None or value == "":
        return empty, False
    if isinstance(value, dict) and kind is dict:
        return value, False  # a record read from its parts: parsed already
    if isinstance(value, BadText) or not isinstance(value, str):
        return empty, True
    try:
        parsed = json.loads(value)
    except ValueError:
        return empty, True
    if parsed is None:
        return empty, False
    return (parsed, False) if isinstance(parsed, kind) else (empty, True)


def decode_run(row: dict[str, Any]) -> dict[str, Any]:
    """Run columns as RunRecord fields, plus ``damaged``: the columns that could not be read."""
    data: dict[str, Any] = {}
    damaged = []
    checks: list[tuple[str, Callable[[Any], tuple[Any, bool]]]]
    checks = [(c, lambda v: _text(v, False)) for c in TEXT] + [(c, lambda v: _text(v, True)) for c in OPTIONAL_TEXT]
    checks += [(c, _int) for c in OPTIONAL_INT]
    checks += [(c, partial(_json, kind=k, empty=e)) for c, (k, e) in JSON_COLUMNS.items()]
    for column, check in checks:
        data[column], bad = check(row.get(column))
        if bad:
            damaged.append(column)
    if damaged:
        was = data["status"]
        data["status"] = DAMAGED
        data["message"] = f"damaged record: unreadable {', '.join(damaged)}; status was {was}"
        # a damaged record is never resumed: its plan may be gone (a resume would run nothing and
        # succeed) and its status no longer shows a run still in progress; run.py refuses without a request
        data["request"] = {}
    data["damaged"] = damaged
    return data


def decode_host(row: dict[str, Any]) -> dict[str, Any]:
    host: dict[str, Any] = {}
    damaged = []
    for column in ("host", "outcome", "changed", "message", "wave", "started", "ended"):
        value = row.get(column)
        if column == "changed":
            host[column], bad = (value, False) if isinstance(value, int) else (0, True)
        else:
            host[column], bad = _text(value, column not in ("host", "outcome"))
        damaged += [column] if bad else []
    report, bad = _json(row.get("report"), dict, None)
    host["report"] = report
    damaged += ["report"] if bad else []
    if "outcome" in damaged:
        host["outcome"] = DAMAGED
    if damaged:
        host["message"] = f"damaged: unreadable {', '.join(damaged)}" + (
            f"; {host['message']}" if host["message"] else ""
        )
        host["damaged"] = damaged
    return host


def decode_asset(row: dict[str, Any]) -> dict[str, Any]:
    record, bad = _json(row.get("record"), dict, {})
    asset = {
        "host": str(row.get("host")),
        "run_id": str(row.get("run_id")),
        "collected": str(row.get("collected")),
        "record": record,
    }
    if bad:
        asset["damaged"] = ["record"]
    return asset
