"""The morning page's history: counts read as aggregates, a damaged summary never breaks the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ccops.inventory.load import load_inventory
from ccops.report import trends as report_trends
from ccops.report.trends import read_trends
from ccops.store.records import Store
from tests.conftest import write_inventory
from tests.fleet_records import inspect, record, site_file, start


def setup(tmp_path, days: int):
    inv = load_inventory(write_inventory(tmp_path / "inv", {"aaa.yml": site_file("aaa", 3, "10.0.0.1")}))
    store = Store(tmp_path / "home" / "ccops.db")
    now = datetime.now(UTC)
    overdue = {"pending": 1, "security": 1, "items": [{"name": "openssl", "from": "1", "to": "2", "security": True}]}
    none = {"pending": 0, "security": 0, "items": []}
    for day in range(days, 0, -1):
        at = (now - timedelta(days=day)).isoformat(timespec="seconds")
        hosts = {"aaa-t01": record(updates=overdue), "aaa-t02": record(updates=none), "aaa-t03": record(updates=none)}
        inspect(store, f"20261101T0600{day:02d}Z-aaaaaa", hosts, at=at)
    return inv, store, now


def test_the_moments_read_one_summary_a_host_whatever_the_history(tmp_path, monkeypatch):
    inv, store, now = setup(tmp_path, 20)
    parsed = []
    real = report_trends._summary
    monkeypatch.setattr(report_trends, "_summary", lambda text: parsed.append(1) or real(text))
    trends = read_trends(store, inv, ["aaa"], now)["aaa"]
    assert len(parsed) == 3 * len(report_trends.MOMENTS)  # 20 inspections kept, one summary a host a moment
    assert [d["inspected"] for d in trends["days"]] == [3] * 13 + [0]  # none yet today
    # aaa-t01's security update was first seen 20 days ago: overdue a day and a week ago
    assert trends["then"]["yesterday"] == {"inspected": 3, "security_overdue": 1, "failed_runs": 0}
    assert trends["then"]["last_week"]["security_overdue"] == 1


def test_a_damaged_summary_counts_as_nothing_known(tmp_path):
    inv, store, now = setup(tmp_path, 10)
    store.db.write(lambda db: db.execute("UPDATE asset_versions SET summary = ? WHERE host = 'aaa-t01'", (b"\x00rot",)))
    store.db.write(lambda db: db.execute("UPDATE asset_versions SET summary = '[1e999]' WHERE host = 'aaa-t02'"))
    then = read_trends(store, inv, ["aaa"], now)["aaa"]["then"]
    # aaa-t01 (overdue) and aaa-t02 unreadable: only aaa-t03 counts as inspected, nothing as overdue
    assert then["yesterday"] == {"inspected": 1, "security_overdue": 0, "failed_runs": 0}


def _failed_patch(store: Store, run_id: str, hosts: list[str], at: datetime) -> None:
    from ccops.store import records

    saved = records.now
    records.now = lambda: at.isoformat(timespec="seconds")
    try:
        start(store, run_id, "patch")
        store.record_hosts(run_id, [{"host": h, "outcome": "failed", "report": {"outcome": "failed"}} for h in hosts])
        store.finish_run(run_id, "halted", 3)
    finally:
        records.now = saved


def test_failed_runs_count_once_per_site_local_day_and_moment_whatever_the_hosts_history(tmp_path):
    """Failed runs are read from the runs of the window, never from each host's whole history."""
    inv, store, now = setup(tmp_path, 20)
    at = now - timedelta(days=2, hours=6)  # before yesterday's 24 hours
    _failed_patch(store, "20261101T000001Z-f00001", ["aaa-t01", "aaa-t02"], at)  # two hosts, one run
    _failed_patch(store, "20261101T000002Z-f00002", ["aaa-t03"], now - timedelta(hours=30))  # yesterday's 24 h
    _failed_patch(store, "20261101T000003Z-f00003", ["zzz-t01"], now - timedelta(hours=30))  # no host of the site
    _failed_patch(store, "20261101T000004Z-f00004", ["aaa-t01"], now - timedelta(days=7, hours=6))  # a week ago
    _failed_patch(store, "20261101T000005Z-f00005", ["aaa-t01"], now - timedelta(days=40))  # before the window
    trends = read_trends(store, inv, ["aaa"], now)["aaa"]
    days = {d["day"]: d["failed_runs"] for d in trends["days"]}  # the site's time is UTC
    expected: dict[str, int] = {}
    for when in (at, now - timedelta(hours=30), now - timedelta(days=7, hours=6)):
        expected[when.date().isoformat()] = expected.get(when.date().isoformat(), 0) + 1
    assert {day: n for day, n in days.items() if n} == expected  # the two-host run once, zzz's not at all
    assert trends["then"]["yesterday"]["failed_runs"] == 1
    assert trends["then"]["last_week"]["failed_runs"] == 1
