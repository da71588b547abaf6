"""A node's job journal: lines that are not mappings are skipped, the closing document is shaped,
and replayed events of the wrong shape never stop the collector."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ccops.hostdata.journal import journal_done, journal_line
from ccops.node.recover import _replay
from ccops.runner.events import EventCollector


def test_journal_lines_that_are_not_mappings_are_skipped():
    assert journal_line('{"event": "x"}') == {"event": "x"}
    for line in ("[1, 2]", "7", "not json", "[" * 100_000, '"text"'):
        assert journal_line(line) is None


def test_the_closing_document_reads_in_its_declared_shape():
    assert journal_done({"status": "successful", "rc": 0}) == {"status": "successful", "rc": 0}
    assert journal_done({"status": ["lost"], "rc": math.inf, "why": {"x": 1}}) == {}
    assert journal_done("gone") == {} and journal_done(None) == {}


def test_replayed_events_of_the_wrong_shape_are_ignored():
    collector = EventCollector()
    for event in (
        {"event": ["runner_on_ok"], "event_data": {"host": "h"}},
        {"event": "runner_on_ok", "event_data": ["h"]},
        {"event": "runner_on_ok", "event_data": {"host": ["h"], "res": {}}},
        {"event": "runner_on_ok", "event_data": {"host": "h", "res": [1]}},
        {"event": "runner_on_ok", "event_data": {"host": "h", "res": {"ansible_facts": 7}}},
    ):
        collector(event)
    assert collector.reports == {} and collector.damaged == {}


def test_a_replayed_event_never_names_a_file_outside_the_artifacts_folder(tmp_path: Path):
    artifacts = tmp_path / "run" / "artifacts" / "w1-b1-a1-recovered"
    hostile = {"event": "verbose", "uuid": "../../../../escaped", "counter": "../../../x"}
    _replay(json.dumps(hostile) + "\n" + json.dumps({"ccops_done": {"status": "successful", "rc": 0}}), artifacts)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == [Path("run/artifacts/w1-b1-a1-recovered/job_events/0000001.json")]
