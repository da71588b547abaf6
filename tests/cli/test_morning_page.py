"""The morning page a site manager reads on a phone: one screen per site first, its numbers against
yesterday and last week from the stored history, risks grouped by kind, site-local times, 390 px wide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ccops.store.records import Store
from tests import chromium
from tests.cli.test_report_render import Marked, lookup, shown
from tests.conftest import write_inventory
from tests.fleet_records import days_ago, inspect, record, seed_fleet, site_file, start
from tests.json_output import payload

needs_chromium = pytest.mark.skipif(chromium.binary() is None, reason="chromium is not installed")


def fleet(ccops, tmp_path: Path) -> Path:
    """The report tests' fleet, site aaa in Shanghai (UTC+8), and ten never-inspected seats at bbb."""
    inv = write_inventory(
        tmp_path / "inv",
        {
            "aaa.yml": site_file("aaa", 4, "10.0.0.1").replace("timezone: UTC", "timezone: Asia/Shanghai"),
            "bbb.yml": site_file("bbb", 13, "10.0.1.1", os="debian11"),
        },
    )
    seed_fleet(Store(ccops.home / "ccops.db"))
    return inv


def report_json(ccops, inv: Path) -> dict:
    result = ccops("report", "-i", str(inv), "--format", "json")
    assert result.returncode == 0, result.stderr
    return payload(result.stdout)


def test_each_site_has_its_numbers_now_yesterday_and_last_week(ccops, tmp_path):
    report = report_json(ccops, fleet(ccops, tmp_path))
    aaa, bbb = report["morning"]
    assert (aaa["site"], aaa["timezone"], bbb["timezone"]) == ("aaa", "Asia/Shanghai", "UTC")
    assert aaa["generated"].endswith(" CST") and bbb["generated"].endswith(" UTC")
    numbers = aaa["numbers"]
    # t01-t03 inspected a day ago, t04 never; a week ago t01 and t02's newest was 15 days old
    assert numbers["inspected"] == {"now": 3, "yesterday": 3, "last_week": 0}
    # t01 and t02's security update was first seen 22 days ago: overdue now, and already a week ago
    assert numbers["security_overdue"] == {"now": 2, "yesterday": 2, "last_week": 2}
    assert numbers["in_policy"]["now"] == 1 and numbers["held_apart"] == {"now": 0, "yesterday": 0, "last_week": 0}
    # the halted patch run reached bbb today: a failed run now, none the day before
    assert bbb["numbers"]["failed_runs"] == {"now": 1, "yesterday": 0, "last_week": 0}
    assert aaa["numbers"]["failed_runs"]["now"] == 0
    # the same counts as the rest of the report
    assert numbers["security_overdue"]["now"] == report["sites"][0]["patches"]["hosts_overdue"]
    assert aaa["risks"] == report["sites"][0]["risks"]


def test_trend_lines_count_inspections_per_site_local_day(ccops, tmp_path):
    inv = write_inventory(
        tmp_path / "inv",
        {
            "aaa.yml": site_file("aaa", 4, "10.0.0.1").replace("timezone: UTC", "timezone: Asia/Shanghai"),
            "bbb.yml": site_file("bbb", 4, "10.0.1.1"),
        },
    )
    store = Store(ccops.home / "ccops.db")
    # 18:00 UTC three days ago is 02:00 the next day in Shanghai: it counts on aaa's next day
    evening = (datetime.now(UTC) - timedelta(days=3)).replace(hour=18, minute=0, second=0, microsecond=0)
    inspect(store, "20261120T180000Z-abcdef", {"aaa-t04": record(), "bbb-t04": record()}, at=evening.isoformat())
    later = (evening + timedelta(hours=1)).isoformat()
    inspect(store, "20261120T190000Z-abcdef", {"aaa-t04": record()}, at=later)  # the same host again
    start(store, "20261122T080000Z-dddddd", "patch")
    store.record_hosts("20261122T080000Z-dddddd", [{"host": "bbb-t01", "outcome": "failed", "message": "x"}])
    store.finish_run("20261122T080000Z-dddddd", "failed", 2, "one host failed")
    aaa, bbb = report_json(ccops, inv)["morning"]
    assert len(aaa["trend"]) == len(bbb["trend"]) == 14
    shanghai, utc = (evening + timedelta(hours=8)).date().isoformat(), evening.date().isoformat()
    assert {d["day"]: d["inspected"] for d in aaa["trend"] if d["inspected"]} == {shanghai: 1}  # once a day
    assert {d["day"]: d["inspected"] for d in bbb["trend"] if d["inspected"]} == {utc: 1}
    assert [d["failed_runs"] for d in bbb["trend"]][-1] == 1 and sum(d["failed_runs"] for d in aaa["trend"]) == 0
    assert bbb["numbers"]["failed_runs"]["now"] == 1


def test_risks_are_grouped_by_kind_with_the_worst_first(ccops, tmp_path):
    inv = fleet(ccops, tmp_path)
    store = Store(ccops.home / "ccops.db")
    inspect(store, "20261101T060000Z-000001", {"bbb-t05": record()}, at=days_ago(9))
    inspect(store, "20261101T060000Z-000002", {"bbb-t06": record()}, at=days_ago(5))
    _, bbb = report_json(ccops, inv)["morning"]
    kinds = {k["kind"]: k for k in bbb["risk_kinds"]}
    assert list(kinds) == ["run_problem", "security_overdue", "not_seen"]  # the risk list's urgency order
    # not seen: 9 of the 13 never inspected (worst of all), then bbb-t05 (9 days), bbb-t06 (5 days)
    assert kinds["not_seen"]["count"] == 11
    assert kinds["not_seen"]["worst"]["detail"] == "never inspected"
    assert bbb["risks"] == sum(k["count"] for k in bbb["risk_kinds"])


def _overflow_probe(page: Path, width: int, height: int) -> Path:
    """A page (the test's, not the report's) that frames the report at a phone's size and writes down how wide
    its content is; the report itself has no script."""
    probe = page.with_name(f"probe-{width}.html")
    probe.write_text(
        "<!DOCTYPE html><html><body style='margin:0'>"
        f"<iframe id='f' src='{page.name}' width='{width}' height='{height}' style='border:0'"
        ' onload="var d=this.contentDocument.documentElement;'
        "document.getElementById('out').textContent=d.scrollWidth+' '+d.clientWidth\"></iframe>"
        "<p id='out'>none</p></body></html>"
    )
    return probe


@needs_chromium
def test_the_page_reads_on_a_phone_and_a_desktop(ccops, tmp_path):
    inv = fleet(ccops, tmp_path)
    page = tmp_path / "report.html"
    assert ccops("report", "-i", str(inv), "--to", str(page)).returncode == 0
    report = report_json(ccops, inv)
    html = page.read_text()
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    # the site screens come first, the full risk list is folded
    assert html.index('class="site"') < html.index("<details>") < html.index("Fleet per site")
    dom = Marked()
    dom.feed(chromium.dump_dom(page, tmp_path))
    morning = [(k, t) for k, t in dom.values if k.startswith("morning/")]
    assert len(morning) > 30 and all(t == shown(lookup(report, k)) for k, t in morning)
    for width, height in ((390, 844), (1280, 900)):
        shot = tmp_path / f"morning-{width}.png"
        shot.write_bytes(chromium.screenshot(page, tmp_path, width, height))
        w, h, rows = chromium.decode_png(shot.read_bytes())
        assert (w, h) == (width, height) and chromium.white_share(rows) < 0.97
        # the first screen holds a trend line (drawn in the palette's blue)
        assert sum(row[i : i + 3] == b"\x00\x72\xb2" for row in rows for i in range(0, len(row), 3)) > 50
        probe = _overflow_probe(page, width, height)
        out = chromium.dump_dom(probe, tmp_path, "--allow-file-access-from-files", "--virtual-time-budget=5000")
        text = out.split('<p id="out">')[1].split("<")[0]
        scroll, client = (int(n) for n in text.split())
        assert scroll <= client, f"the page is {scroll} px wide in a {client} px window"


def test_held_hosts_are_counted_now_and_at_each_moment_and_listed_as_risks(ccops, tmp_path):
    from ccops.store.holds import Hold, lift, put

    inv = fleet(ccops, tmp_path)
    store = Store(ccops.home / "ccops.db")
    put(store, [Hold("aaa-t01", "aaa", days_ago(3), ["out of policy 3 days"], automatic=True)])
    put(store, [Hold("aaa-t02", "aaa", days_ago(10), ["by hand"], automatic=False)])
    lift(store, {"aaa-t02": "fixed"}, days_ago(0.5))  # held ten days, lifted this morning
    report = report_json(ccops, inv)
    aaa = report["morning"][0]
    assert aaa["numbers"]["held_apart"] == {"now": 1, "yesterday": 2, "last_week": 1}
    held = [r for r in report["risks"] if r["kind"] == "held"]
    assert [r["host"] for r in held] == ["aaa-t01"] and "out of policy 3 days" in held[0]["detail"]
    assert {k["kind"]: k["count"] for k in aaa["risk_kinds"]}["held"] == 1
