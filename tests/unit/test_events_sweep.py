"""The runner's event seam takes events a node's journal replays: a stats event of any shape is judged, never raised."""

from __future__ import annotations

import math
from typing import Any

import pytest

from ccops.runner.events import EventCollector

WRONG: list[Any] = [None, 1, "x", "tst-a01", [], ["tst-a01"], math.nan, 1e999, 10**400, "\x1b[2J"]
COUNTS: list[Any] = [None, "x", "1", [1], {"a": 1}, math.inf, math.nan, -5, 10**400, True, 1.5]
VERDICTS = ["ok", "changed", "failures", "dark", "rescued", "skipped", "ignored"]


def _judged(stats: dict[str, Any]) -> str:
    collector = EventCollector()
    collector({"event": "playbook_on_play_start", "event_data": {"uuid": "p"}})
    report = {"ansible_facts": {"ccops_report": {"outcome": "ok"}}}
    collector({"event": "runner_on_ok", "event_data": {"host": "tst-a01", "play_uuid": "p", "res": report}})
    collector({"event": "playbook_on_stats", "event_data": stats})
    (outcome,) = collector.outcomes(["tst-a01"])
    assert isinstance(outcome.changed, int) and outcome.changed >= 0
    return outcome.outcome


@pytest.mark.parametrize("verdict", VERDICTS)
@pytest.mark.parametrize("value", WRONG, ids=repr)
def test_a_verdict_that_is_not_a_mapping_names_no_host(verdict, value):
    assert _judged({"ok": {"tst-a01": 1}, verdict: value}) in ("ok", "not run")


@pytest.mark.parametrize("verdict", VERDICTS)
@pytest.mark.parametrize("count", COUNTS, ids=repr)
def test_a_host_named_with_a_count_of_any_shape_is_still_named(verdict, count):
    outcome = _judged({"ok": {"tst-a01": 1}, verdict: {"tst-a01": count}})
    expected = {"failures": "failed", "dark": "unreachable", "rescued": "rescued"}.get(verdict, "ok")
    assert outcome == expected


@pytest.mark.parametrize("task", [None, 7, ["x"], {"a": 1}, "", "t" * 1_000_000])
@pytest.mark.parametrize("msg", [None, 7, ["x"], {"a": 1}, "m" * 1_000_000, "\x1b[2J"])
def test_a_failure_message_is_one_bounded_line_whatever_the_event_holds(task, msg):
    collector = EventCollector()
    collector({"event": "runner_on_failed", "event_data": {"host": "tst-a01", "task": task, "res": {"msg": msg}}})
    collector({"event": "playbook_on_stats", "event_data": {"failures": {"tst-a01": 1}}})
    (outcome,) = collector.outcomes(["tst-a01"])
    assert outcome.outcome == "failed" and outcome.message is not None
    assert len(outcome.message) <= 600 and "\n" not in outcome.message


@pytest.mark.parametrize("text", ["x\ud800y", "\udfff", "a\x00b", "ok\udc80\x00"], ids=repr)
@pytest.mark.parametrize("kind", ["runner_on_failed", "runner_on_unreachable"])
def test_a_failure_message_is_text_every_encoder_takes(kind, text):
    collector = EventCollector()
    collector({"event": kind, "event_data": {"host": "tst-a01", "task": text, "res": {"msg": text, "stderr": text}}})
    collector({"event": "playbook_on_stats", "event_data": {"failures": {"tst-a01": 1}}})
    (outcome,) = collector.outcomes(["tst-a01"])
    assert outcome.message is not None and "\x00" not in outcome.message
    outcome.message.encode("utf-8")  # what SQLite does with it
