"""Each kind a host document is declared with: every wrong type and size is named, never raised."""

from __future__ import annotations

import math

import pytest

from ccops.hostdata.kinds import MAX_DEPTH, MAX_NOTES, Bool, Free, Int, ListOf, MapOf, Num, Record, Text, parse

WRONG = [None, True, [], [1], {}, {"a": 1}, math.inf, -math.inf, math.nan, 1e999, object()]


@pytest.mark.parametrize("value", [v for v in WRONG if v is not None and not isinstance(v, float)])
def test_text_refuses_what_is_not_text(value):
    clean, damaged = parse(Text(), value)
    assert clean is None and damaged and "expected text" in damaged[0]


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 1e999])
def test_text_refuses_non_finite_numbers(value):
    assert parse(Text(), value)[1]


def test_text_reads_a_number_as_its_text_and_cuts_huge_text():
    assert parse(Text(), 12) == ("12", [])
    clean, damaged = parse(Record({"name": Text(10)}), {"name": "x" * 10_000_000})
    assert clean == {"name": "x" * 10} and damaged == ["name: text of 10000000 characters cut to 10"]


def test_text_loses_its_nul_characters():
    clean, damaged = parse(Record({"name": Text()}), {"name": "a\x00b"})
    assert clean == {"name": "ab"} and damaged == ["name: NUL characters removed"]


@pytest.mark.parametrize("value", [*WRONG, "7x", "-1", 1.5, 10**30, -1])
def test_int_refuses_wrong_types_fractions_and_out_of_range(value):
    clean, damaged = parse(Int(0, 1000), value)
    assert clean is None and len(damaged) == 1


def test_int_accepts_whole_numbers_as_numbers_or_text():
    assert parse(Int(), 7) == (7, [])
    assert parse(Int(), "7") == (7, [])
    assert parse(Int(), 7.0) == (7, [])


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 1e999, "5", [], {}, True, None, 101, -0.5])
def test_num_is_finite_and_in_range(value):
    clean, damaged = parse(Num(0, 100), value)
    assert clean is None and damaged


def test_bool_takes_booleans_and_their_text_only():
    assert parse(Bool(), "true") == (True, [])
    for value in (1, 0, "yes", [], None, math.nan):
        assert parse(Bool(), value)[1]


def test_a_field_that_does_not_fit_is_dropped_and_named_the_rest_is_kept():
    disks = ListOf(Record({"mount": Text(), "size_mb": Int()}))
    clean, damaged = parse(Record({"disks": disks}), {"disks": [{"mount": "/"}, {"mount": ["/", "x"]}, 7]})
    assert clean == {"disks": [{"mount": "/"}, {}]}
    assert damaged == ["disks[1].mount: expected text, got list", "disks[2]: expected a mapping, got integer"]


def test_a_list_where_a_mapping_is_expected_and_the_reverse():
    schema = Record({"os": Record({"kernel": Text()}), "logs": ListOf(Text())})
    clean, damaged = parse(schema, {"os": ["linux"], "logs": {"a": "b"}})
    assert clean == {"os": {}, "logs": []}  # readers iterate an empty one, never a number
    assert damaged == ["os: expected a mapping, got list", "logs: expected a list, got mapping"]


def test_lists_and_maps_are_cut_to_their_size():
    clean, damaged = parse(ListOf(Int(), 3), list(range(10)))
    assert clean == [0, 1, 2] and damaged == ["(document): 10 entries, kept the first 3"]
    clean, damaged = parse(MapOf(Text(), 2), {"a": "1", "b": "2", "c": "3"})
    assert clean == {"a": "1", "b": "2"} and damaged


def test_unknown_fields_of_a_record_are_not_kept():
    assert parse(Record({"a": Int()}), {"a": 1, "b": {"deep": 1}}) == ({"a": 1}, [])


def test_free_values_are_bounded_in_depth_and_finite():
    deep: object = "bottom"
    for _ in range(10_000):
        deep = [deep]
    clean, damaged = parse(Record({}, extra=Free()), {"evidence": deep, "n": math.inf, "ok": {"a": [1, "b"]}})
    assert clean["ok"] == {"a": [1, "b"]} and "n" not in clean
    depth, inner = 0, clean["evidence"]
    while inner:
        depth, inner = depth + 1, inner[0]
    assert depth <= MAX_DEPTH + 1  # what is below the limit is cut, what is above it kept
    assert any(f"nested deeper than {MAX_DEPTH}" in d for d in damaged)
    assert any(d.startswith("n: expected a finite number") for d in damaged)


def test_damage_notes_are_bounded():
    clean, damaged = parse(ListOf(Int()), ["x"] * 10_000)
    assert clean == [] and len(damaged) == MAX_NOTES + 1 and damaged[-1].endswith("more")


def test_a_mapping_with_unusable_keys_keeps_the_others():
    clean, damaged = parse(MapOf(Text()), {"": "1", "k" * 1000: "2", "ok": "3"})
    assert clean == {"ok": "3"} and len(damaged) == 2
