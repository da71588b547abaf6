"""Maintenance windows in the site's own time zone, and the wave gates ccops computes."""

from datetime import UTC, datetime

from ccops.inventory.load import load_inventory
from ccops.plan.build import Batch, Wave
from ccops.plan.gates import gate_reason
from ccops.plan.maintenance import describe, window_open
from ccops.runner.events import HostOutcome
from tests.conftest import site_text, write_inventory


def _site(tmp_path, windows: str, rollout: str = ""):
    text = site_text().replace("  rollout:", f"  maintenance_windows: {windows}\n  rollout:")
    if rollout:
        text = text.replace('{canary: 1, waves: ["50%", "100%"], batch_size: 2}', rollout)
    return load_inventory(write_inventory(tmp_path / "inv", {"a.yml": text}))


def test_window_is_judged_in_the_sites_time_zone(tmp_path):
    site = _site(tmp_path, '[{days: [mon, tue, wed, thu, fri], start: "01:00", end: "05:00"}]').sites["tst"]
    # Monday 18:30 UTC is Tuesday 02:30 in Shanghai: open
    assert window_open(site, datetime(2026, 11, 23, 18, 30, tzinfo=UTC))
    # Monday 02:30 UTC is Monday 10:30 in Shanghai: closed, and the message says so in local time
    monday = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    assert not window_open(site, monday)
    assert "Mon 10:30 Asia/Shanghai" in describe(site, monday)


def test_window_past_midnight_and_whole_day(tmp_path):
    site = _site(
        tmp_path, '[{days: [fri], start: "22:00", end: "04:00"}, {days: [sun], start: "00:00", end: "00:00"}]'
    ).sites["tst"]
    assert window_open(site, datetime(2026, 11, 27, 15, 0, tzinfo=UTC))  # Fri 23:00 local
    assert window_open(site, datetime(2026, 11, 27, 19, 0, tzinfo=UTC))  # Sat 03:00 local, Friday's window
    assert not window_open(site, datetime(2026, 11, 28, 3, 0, tzinfo=UTC))  # Sat 11:00 local
    assert window_open(site, datetime(2026, 11, 29, 15, 0, tzinfo=UTC))  # Sun 23:00 local


def test_a_site_without_windows_is_never_open(tmp_path):
    inventory = load_inventory(write_inventory(tmp_path / "inv", {"a.yml": site_text()}))
    assert not window_open(inventory.sites["tst"])


def _wave(inventory, names):
    return Wave("wave 1 (50%)", [Batch("tst", [inventory.hosts[n] for n in names])])


def test_gate_halts_when_the_wave_crosses_its_failure_percentage(tmp_path):
    inventory = _site(tmp_path, "[]", "{batch_size: 2, max_fail_percentage: 25}")
    wave = _wave(inventory, ["tst-t01", "tst-t02", "tst-t03", "tst-t04"])
    one_failed = [HostOutcome("tst-t01", "failed"), HostOutcome("tst-t02", "ok")]
    assert gate_reason(inventory, wave, one_failed, one_failed) is None  # 1 of 4 = 25 %: not exceeded
    two = [*one_failed, HostOutcome("tst-t03", "unreachable")]  # unreachable counts
    reason = gate_reason(inventory, wave, two, two)
    assert reason and "2 of 4 host(s) at site tst failed (50% > max_fail_percentage 25%)" in reason


def test_refused_hosts_do_not_count_and_the_absolute_cap_does(tmp_path):
    inventory = _site(tmp_path, "[]", "{batch_size: 2, max_fail_percentage: 100, max_failures: 1}")
    wave = _wave(inventory, ["tst-t01", "tst-t02", "tst-t03", "tst-t04"])
    refused = [HostOutcome("tst-t01", "refused"), HostOutcome("tst-t02", "refused")]
    assert gate_reason(inventory, wave, refused, refused) is None
    failed = [HostOutcome("tst-t03", "failed"), HostOutcome("tst-t04", "not run")]
    assert "2 host(s) failed in this run, more than max_failures 1" in gate_reason(inventory, wave, failed, failed)
