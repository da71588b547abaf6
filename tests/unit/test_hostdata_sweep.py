"""Every field of every declared host document, fed every wrong value: parsed or named, never raised.

The sweep walks each schema's declared fields (lists and maps included) and puts one hostile value
at that place; whatever comes back must serialise as strict JSON and every damage note must be a
bounded line of text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest

from ccops.hostdata import kinds, parse_report, read_asset, read_certificate, read_report, read_summary, runs
from ccops.hostdata.asset import ASSET, SUMMARY
from ccops.hostdata.reports import BY_OUTCOME, BY_VERB
from ccops.text import strict_json


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


HOSTILE: list[Any] = [
    None, True, 0, -1, -(10**30), 10**400, 1e999, -1e999, math.nan, 1.5, -0.0, 2**53 + 1,
    "", "²", "١٢", " 12 ", "1" * 25, "\x00", "\x1b]52;c;AAAA\x07", "\u202e\u2066", "x" * 100_000,
    [], [1], {}, {"__proto__": {"polluted": 1}}, {"\x1b[2J": 1}, {"": 1}, {"k" * 10_000: 1},
    _nested(50), (1, 2), b"bytes", "a\ud800b\udfff", {"k\udfff": "v\ud800"}, ["\udc80"],
]  # fmt: skip
SCHEMAS: dict[str, kinds.Kind] = {
    "ASSET": ASSET,
    "SUMMARY": SUMMARY,
    **{name: kind for name, kind in vars(runs).items() if isinstance(kind, kinds.Kind)},
}


def _places(kind: kinds.Kind, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(kind, kinds.Record):
        for name, inner in kind.fields.items():
            yield from _places(inner, (*path, name))
    elif isinstance(kind, kinds.ListOf):
        yield from _places(kind.item, (*path, 0))
    elif isinstance(kind, kinds.MapOf):
        yield from _places(kind.value, (*path, "pkg"))


def _at(path: tuple[Any, ...], value: Any) -> Any:
    for step in reversed(path):
        value = [value] if step == 0 else {step: value}
    return value


def _fits(clean: Any, damaged: list[str]) -> None:
    json.loads(strict_json.dumps(clean), parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    json.dumps(clean, ensure_ascii=False).encode("utf-8")  # every text is Unicode: a digest or a file takes it
    assert all(isinstance(n, str) and len(n) < 1024 for n in damaged), damaged


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_field_of_every_schema_takes_every_hostile_value(name):
    schema = SCHEMAS[name]
    for path in _places(schema):
        for value in HOSTILE:
            clean, damaged = kinds.parse(schema, _at(path, value))
            _fits(clean, damaged)


@pytest.mark.parametrize("verb", [*sorted(BY_VERB), None])
@pytest.mark.parametrize("outcome", [*sorted(BY_OUTCOME), "damaged", 7])
def test_a_report_of_any_shape_for_any_verb_is_parsed(verb, outcome):
    for value in [*HOSTILE, {"outcome": outcome, "reason": ["x"], "damaged": ["forged"]}]:
        clean, damaged = parse_report(value, verb)
        _fits(clean, damaged)
        assert "forged" not in clean.get("damaged", [])
        _fits(read_report(value, verb), [])


@pytest.mark.parametrize("reader", [read_asset, read_summary, read_certificate])
def test_stored_documents_of_any_shape_are_read(reader):
    for value in [*HOSTILE, *({"damaged": v} for v in HOSTILE)]:
        _fits(reader(value), [])


@pytest.mark.parametrize("text", ["²", "³", "①", "١٢"])
def test_unicode_digits_are_not_a_whole_number_crash(text):
    clean, damaged = kinds.parse(kinds.Int(), text)
    assert clean is None and damaged and "expected a whole number" in damaged[0]


@pytest.mark.parametrize("value", [10**400, -(10**400)])
def test_a_whole_number_too_big_for_a_float_is_named_by_its_size(value):
    clean, damaged = kinds.parse(kinds.Num(), value)
    assert clean is None and damaged == [f"(document): a whole number of {value.bit_length()} bits is outside 0..1e+15"]


def test_undeclared_fields_are_bounded_in_name_and_number():
    report = {"outcome": "ok", "\x1b" + "k" * 100_000: 1, **{f"extra{i}": i for i in range(5000)}}
    clean, damaged = parse_report(report, None)
    assert not any(len(k) > 256 for k in clean)
    assert len(clean) <= 2 + kinds.MAX_EXTRA  # outcome, damaged and the first undeclared fields
    assert any("unusable key" in n for n in damaged)
    assert any(f"more than {kinds.MAX_EXTRA} undeclared fields" in n for n in damaged)
    assert all(len(n) < 200 for n in damaged)


@pytest.mark.parametrize(
    "backup", [None, "b", [], {}, {"verified": True}, {"verified": True, "id": ["x"]}, {"verified": "true", "id": None}]
)
def test_a_deploy_backup_report_that_is_verified_always_names_its_backup(backup):
    report = {"outcome": "backed_up", "reason": "", "phase": "backup"}
    for value in ({**report, "backup": backup}, report):
        clean, _ = parse_report(value, None)
        if clean.get("outcome") == "backed_up" and clean["backup"].get("verified"):
            assert clean["backup"]["id"]
    assert parse_report({**report, "backup": {"verified": True, "id": "b1"}}, None)[0]["backup"]["id"] == "b1"
