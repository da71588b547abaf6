"""ccops's JSON output at fleet size is exactly strict_json's text, whatever the data."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ccops.cli.output import indented_json
from ccops.inventory.export import to_ansible_list
from ccops.inventory.load import load_inventory
from ccops.text import strict_json
from tests.conftest import EXAMPLE

SHARED = {"windows": [{"days": ["mon"], "start": "01:00"}], "empty": {}, "none": []}


@pytest.mark.parametrize(
    "data",
    [
        {},
        [],
        "text",
        None,
        0,
        {"a": SHARED, "b": [SHARED, SHARED, {"deeper": SHARED}], "c": (1, 2.5, True, False, None)},
        {"nan": math.nan, "inf": [math.inf, -math.inf], math.nan: 1, 1.5: "k", 2: "i", True: "t", None: "n"},
        {"ctl": "a\x1b[31m\u202e\r\n\t\x00", "wide": "\u4e2d\u6587 \U0001f600", "quote": '"\\'},
        {"path": Path("/x"), "big": 10**30, "neg": -0.0, "small": 1e-300},
        [[[[]]], [{}], [{"": ""}]],
    ],
)
def test_the_same_text_as_strict_json(data):
    assert indented_json(data) == strict_json.dumps(data)


def test_the_example_inventory_lists_as_before():
    model = load_inventory(EXAMPLE)
    document = to_ansible_list(model)
    text = indented_json(document)
    assert text == strict_json.dumps(document) and json.loads(text)["_meta"]["hostvars"]


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"a": [{}], "b": {"c": {"d": [1, 2, {"e": None}]}}},
        {"big": {f"h{i}": {"n": i, "s": SHARED} for i in range(600)}, "list": [f"x{i}" for i in range(700)]},
        [[{"k": v} for v in range(300)], "x"],
        {1: {"deep": [{"x": 1}]}, "nan": [math.nan]},
    ],
)
def test_emit_json_streams_the_same_text(data, capsys):
    from ccops.cli.output import emit_json, envelope

    emit_json(data, "inventory-list")  # in its envelope, byte for byte what the whole-document writer writes
    assert capsys.readouterr().out == strict_json.dumps(envelope(data, "inventory-list")) + "\n"


def test_a_layered_dict_is_written_as_its_content():
    from ccops.inventory.layered import layered

    site, own = {"a": 1, "shared": SHARED}, {"b": [2]}
    hosts = {f"h{i}": layered(site, {**own, "n": i}, {}) for i in range(3)}
    hosts["h1"]["extra"] = True  # changed after it was made: its content is what counts
    clash = layered(site, {"a": 2})  # a key in two layers: a plain dict, the later value
    data = {"hosts": hosts, "clash": clash}
    assert indented_json(data) == strict_json.dumps(data) and clash == {"a": 2, "shared": SHARED}
