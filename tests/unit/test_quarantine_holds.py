"""Holds in the record store: one in force per host, kept after lifting, read without creating a store."""

from __future__ import annotations

import sqlite3

from ccops.paths import state_dir
from ccops.store.holds import Hold, held_at, held_names, holds, lift, note_run, put
from ccops.store.records import Store


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


def test_held_hosts_are_risks_and_the_morning_count_follows_since_and_lifted(tmp_path, monkeypatch):
    from datetime import UTC, datetime

    from ccops.inventory.load import load_inventory
    from ccops.report.held import held_apart, held_risks
    from tests.conftest import write_inventory
    from tests.unit.test_quarantine_overlay import SITE

    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    inventory = load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": SITE}))
    rows = [
        Hold("tst-a01", "tst", "2026-12-01T00:00:00+00:00", ["by hand"], automatic=False, applied_run="r1"),
        Hold("tst-a02", "tst", "2026-12-01T00:00:00+00:00", ["x"], True, lifted="2026-12-05T00:00:00+00:00"),
        Hold("gone", "tst", "2026-12-01T00:00:00+00:00", ["x"], automatic=True),
    ]
    (risk,) = held_risks(inventory, rows)
    assert (risk["host"], risk["kind"], risk["run_id"]) == ("tst-a01", "held", "r1")
    assert risk["detail"] == "held apart since 2026-12-01T00:00:00+00:00 (manual): by hand; applied by run r1"
    assert held_risks(inventory, rows, {"other"}) == []
    assert held_apart(rows, "tst", datetime(2026, 12, 6, tzinfo=UTC)) == 2  # tst-a01 and the host gone since
    assert held_apart(rows, "tst", datetime(2026, 12, 4, tzinfo=UTC)) == 3
    assert held_apart(rows, "tst", datetime(2026, 11, 30, tzinfo=UTC)) == 0
