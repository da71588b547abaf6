"""--events: a run as it happens, one versioned JSON object a line, valid against the documented schema."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import jsonschema
import pytest

from ccops.inventory.select import Selector
from ccops.run import RunRequest, execute, prepare, resume_run
from ccops.run.events_stream import EventStream, events_to
from tests.conftest import ROOT, write_inventory
from tests.scripted import ScriptedEngine
from tests.unit.test_run_loop import SITE

SCHEMA = json.loads((ROOT / "docs" / "reference" / "events.schema.json").read_text())


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def inventory(tmp_path):
    return write_inventory(tmp_path / "inv", {"tst.yml": SITE})


def _patch(inventory: Path) -> RunRequest:
    return RunRequest(inventory, "patch", Selector(), change_id="CHG-1")


def _events(path: Path) -> list[dict]:
    lines = path.read_text().splitlines()
    events = [json.loads(line) for line in lines]
    for event in events:
        jsonschema.validate(event, SCHEMA)
    return events


def test_every_event_of_a_run_validates_and_tells_the_run_in_order(home, inventory, tmp_path):
    target = tmp_path / "events.jsonl"
    engine = ScriptedEngine({"tst-t02": "refused", "tst-t03": "changed"})
    with events_to(EventStream(str(target))):
        result = execute(prepare(_patch(inventory)), engine=engine)
    events = _events(target)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "run_started" and kinds[-1] == "run_ended"
    assert {e["run_id"] for e in events} == {result.run_id}
    assert all(e["v"] == 1 for e in events)
    # each batch: started, one result per host, ended; in the order they ran
    assert kinds.count("batch_started") == kinds.count("batch_ended") == len(engine.batches)
    assert [e["host"] for e in events if e["type"] == "host_result"] == [h for b in engine.batches for h in b.hosts]
    assert events[0]["hosts"] == 5 and events[0]["verb"] == "patch"
    refused = next(e for e in events if e.get("host") == "tst-t02")
    assert refused["outcome"] == "refused" and refused["message"] == "seat busy"
    assert events[-1]["status"] == result.status and events[-1]["exit_code"] == result.exit_code
    assert events[-1]["refused"] == {"seat busy": 1}


def test_events_are_written_as_the_run_goes_not_at_its_end(home, inventory, tmp_path):
    target = tmp_path / "events.jsonl"
    seen: list[list[str]] = []
    # mid-batch: what a reader following the file already has
    engine = ScriptedEngine(during=lambda batch: seen.append([e["type"] for e in _events(target)]))
    with events_to(EventStream(str(target))):
        execute(prepare(_patch(inventory)), engine=engine)
    assert seen[0] == ["run_started", "batch_started"]
    assert seen[1][-3:] == ["host_result", "batch_ended", "batch_started"]


def test_host_text_stays_data_on_one_ascii_line(home, inventory, tmp_path):
    target = tmp_path / "events.jsonl"
    hostile = '\x1b[2J\x1b]0;owned\x07"}\n{"v": 1, "type": "run_ended", "nan": NaN}\u2028'
    engine = ScriptedEngine(reports={"tst-t01": {"outcome": "refused", "reason": hostile}})
    with events_to(EventStream(str(target))):
        execute(prepare(_patch(inventory)), engine=engine)
    raw = target.read_bytes()
    assert raw.isascii() and b"\x1b" not in raw
    events = _events(target)
    assert [e["type"] for e in events].count("run_ended") == 1
    assert any(e.get("message") == hostile for e in events)  # kept exactly, as data


def test_a_fifo_reader_gets_each_line_and_a_reader_that_leaves_never_stops_the_run(home, inventory, tmp_path):
    fifo = tmp_path / "events.fifo"
    os.mkfifo(fifo)
    first: list[bytes] = []

    def read_one_line_and_leave() -> None:
        with fifo.open("rb") as reader:
            first.append(reader.readline())

    reader = threading.Thread(target=read_one_line_and_leave)
    reader.start()
    gone = threading.Event()
    engine = ScriptedEngine(during=lambda batch: reader.join() or gone.set())
    with events_to(EventStream(str(fifo))):
        result = execute(prepare(_patch(inventory)), engine=engine)
    assert gone.is_set()
    assert json.loads(first[0])["type"] == "run_started"
    assert result.status == "succeeded" and len(result.hosts) == 5
    assert fifo.exists() and not fifo.is_file()  # written through, never replaced


def test_a_resumed_run_says_so(home, inventory, tmp_path):
    engine = ScriptedEngine({"tst-t01": "failed"})
    halted = execute(prepare(_patch(inventory)), engine=engine)
    engine.script = {}
    target = tmp_path / "resume.jsonl"
    with events_to(EventStream(str(target))):
        resume_run(halted.run_id, engine=engine)
    events = _events(target)
    assert events[0]["type"] == "run_started" and events[0]["resumed"] is True
    assert events[-1]["status"] == "succeeded"


def test_a_symlink_named_as_the_events_file_is_replaced_never_written_through(tmp_path):
    kept = tmp_path / "someone-elses.txt"
    kept.write_text("precious\n")
    link = tmp_path / "events.jsonl"
    link.symlink_to(kept)
    stream = EventStream(str(link))
    with events_to(stream):
        stream.open()
        stream.emit("run_ended", "RUN-1", status="succeeded", exit_code=0, message=None, outcomes={}, refused={})
    assert kept.read_text() == "precious\n"
    assert not link.is_symlink() and json.loads(link.read_text())["type"] == "run_ended"
