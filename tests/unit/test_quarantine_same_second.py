"""Two comply runs started in the same second: the one started later is the host's compliance, whatever
the random hex ending its run id, so the operator's passing comply --fix lifts an automatic hold applied
by a failing one a moment before (the store keeps start times in whole seconds)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ccops.inventory.load import load_inventory
from ccops.quarantine.current import evaluate_now
from ccops.store import records
from ccops.store.holds import Hold, note_run, put
from ccops.store.records import Store
from tests.conftest import write_inventory
from tests.unit.test_quarantine_overlay import SITE

SECOND = "2026-12-07T20:53:49+00:00"
USB = [{"policy": "usb_storage", "detail": "usb storage is allowed"}]


@pytest.fixture
def store(tmp_path, monkeypatch) -> Store:
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(records, "now", lambda: SECOND)  # every run starts in this one second
    return Store(tmp_path / "home" / "ccops.db")


def _comply(store: Store, run_id: str, deviations: list[dict[str, str]], ended: str = SECOND) -> None:
    store.start_run(
        run_id, "comply", operator="op", change_id="CHG-7", git_commit=None, inventory="inv",
        inventory_sha256="x", selectors={}, request={}, plan={},
    )  # fmt: skip
    report = {"outcome": "ok", "deviations": deviations}
    store.record_hosts(run_id, [{"host": "tst-a01", "outcome": "ok", "ended": ended, "report": report}])
    store.finish_run(run_id, "succeeded", 0)


def test_the_run_started_later_in_the_same_second_is_the_hosts_compliance(store):
    _comply(store, "20261207T205349Z-ffffff", USB)  # the hold's own comply --fix: still out of policy
    _comply(store, "20261207T205349Z-000000", [])  # the operator's fix right after: in policy
    assert store.compliance()["tst-a01"]["run_id"] == "20261207T205349Z-000000"
    assert store.compliance()["tst-a01"]["deviations"] == []


def test_a_late_write_of_an_older_run_does_not_replace_a_newer_result(store, monkeypatch):
    _comply(store, "20261207T205349Z-000000", USB)
    monkeypatch.setattr(records, "now", lambda: "2026-12-07T20:53:50+00:00")
    _comply(store, "20261207T205350Z-000000", [])
    # the first run's results written again (a resumed run, a spooled write): the newer result stays
    store.record_hosts(
        "20261207T205349Z-000000",
        [{"host": "tst-a01", "outcome": "ok", "ended": SECOND, "report": {"outcome": "ok", "deviations": USB}}],
    )
    assert store.compliance()["tst-a01"]["run_id"] == "20261207T205350Z-000000"


def test_a_passing_fix_in_the_second_of_the_holds_own_run_lifts_the_hold(store, tmp_path):
    inventory = load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": SITE}))
    held = Hold("tst-a01", "tst", SECOND, ["out of policy for 0.0 days"], automatic=True, change_id="q")
    put(store, [held])
    _comply(store, "20261207T205349Z-ffffff", USB)
    note_run(store, ["tst-a01"], "20261207T205349Z-ffffff", lifted=False)
    _comply(store, "20261207T205349Z-000000", [])
    found = evaluate_now(store, inventory, datetime(2026, 12, 7, 20, 53, 50, tzinfo=UTC))
    assert found.lifts == {"tst-a01": "in policy at comply run 20261207T205349Z-000000, no hold condition left"}


def test_runs_started_in_the_same_second_are_listed_newest_first_by_when_they_started(store):
    """`ccops runs list` and every "runs since" reader: the later run first, whatever its id's hex."""
    _comply(store, "20261207T205349Z-ffffff", USB)
    _comply(store, "20261207T205349Z-000000", [])
    assert [r.id for r in store.runs()][:2] == ["20261207T205349Z-000000", "20261207T205349Z-ffffff"]
    assert [r.id for r in store.runs_since(SECOND)][:2] == ["20261207T205349Z-000000", "20261207T205349Z-ffffff"]
