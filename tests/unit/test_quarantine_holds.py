"""Holds in the record store: one in force per host, kept after lifting, read without creating a store."""

from __future__ import annotations

import sqlite3

from ccops.paths import state_dir
from ccops.quarantine.holds import Hold, held_at, held_names, holds, lift, note_run, put
from ccops.records import Store


def test_holds_are_kept_with_their_runs_and_lifting_keeps_the_history(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    assert held_names() == frozenset()
    assert not (state_dir() / "ccops.db").exists()  # asking created no store
    store = Store(state_dir() / "ccops.db")
    assert holds(store) == [] and held_names() == frozenset()  # a store without the table holds nothing
    put(store, [Hold("a1", "tst", "2026-12-01T00:00:00+00:00", ["out of policy"], automatic=True)])
    again = put(store, [Hold("a1", "tst", "2026-12-02T00:00:00+00:00", ["by hand"], automatic=False)])
    assert again[0].reasons == ["out of policy", "by hand"] and not again[0].automatic  # a person's hold now
    note_run(store, ["a1"], "run-1", lifted=False)
    assert held_names() == frozenset({"a1"})
    assert lift(store, {"a1": "fixed", "a9": "never held"}, "2026-12-03T00:00:00+00:00") == ["a1"]
    note_run(store, ["a1"], "run-2", lifted=True)
    assert holds(store) == [] and held_names() == frozenset()
    (old,) = holds(store, active=False)
    assert (old.since, old.applied_run, old.lifted_run, old.lift_reason) == (
        "2026-12-01T00:00:00+00:00", "run-1", "run-2", "fixed"
    )  # fmt: skip
    assert held_at([old], "tst", "2026-12-02T12:00:00+00:00") == 1
    assert held_at([old], "tst", "2026-12-04T00:00:00+00:00") == 0
    put(store, [Hold("a1", "tst", "2026-12-05T00:00:00+00:00", ["again"], automatic=True)])
    assert [h.reasons for h in holds(store)] == [["again"]]  # a new hold, the old one stays history


def test_a_damaged_row_is_skipped_not_fatal(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    store = Store(state_dir() / "ccops.db")
    put(store, [Hold("a1", "tst", "2026-12-01T00:00:00+00:00", ["x"], automatic=True)])
    with sqlite3.connect(store.path) as db:
        db.execute("INSERT INTO quarantine_holds (host, since, reasons, automatic) VALUES ('a2', 'now', '{', 1)")
    assert [h.host for h in holds(store)] == ["a1"]
