"""What a node answers over ssh is host data: any answer is a clear refusal, never a crash or a path."""

from __future__ import annotations

import json

import pytest

from ccops.errors import CcopsError
from ccops.node import prepare
from ccops.node.target import NodeTarget

PREFLIGHT = [
    "",
    "\n\n",
    "not json",
    "[1, 2]",
    "NaN",
    '{"a":' * 3000 + "1" + "}" * 3000,
    json.dumps({"ansible_core": ["2.17"], "collections": "all", "helper": 7}),
    json.dumps({"ccops_error": {"x": 1}}),
    json.dumps({"ccops_error": "disk full\x1b[2J"}),
    json.dumps({"ansible_core": "2.0", "ansible_runner": None, "collections": {"a.b": "1"}, "helper": "x"}),
]
PLATFORM = ["", "3.11", "3.11 x86_64 extra", "x.y x86_64", "².11 x86_64", "3.11 ../../../tmp/evil", "3.11 x86;64"]


def _target() -> NodeTarget:
    return NodeTarget("tst", "tst-node", "127.0.0.9", 22, "ccops", None, None)


@pytest.mark.parametrize("answer", PREFLIGHT, ids=lambda a: a[:20])
def test_a_nodes_preflight_answer_of_any_shape_is_a_refusal(monkeypatch, answer):
    monkeypatch.setattr(prepare, "ssh", lambda *args, **kwargs: answer)
    with pytest.raises(CcopsError) as refused:
        prepare.check_node(_target())
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("answer", PLATFORM)
def test_a_nodes_platform_answer_never_names_a_path(monkeypatch, answer):
    monkeypatch.setattr(prepare, "ssh", lambda *args, **kwargs: answer)
    with pytest.raises(CcopsError, match="could not read"):
        prepare.node_platform(_target())
