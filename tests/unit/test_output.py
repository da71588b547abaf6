"""How times read in tables: durations in the unit that fits, record times with their zone."""

import pytest

from ccops.cli.output import duration, utc_time
from ccops.cli.runs_cmd import report_detail


@pytest.mark.parametrize(
    ("seconds", "text"), [(51, "51s"), (51.4, "51s"), (185, "3m 05s"), (3720, "1h 02m"), (None, "-")]
)
def test_durations_are_never_rounded_to_zero_minutes(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2026-11-23T03:04:05.123456", "2026-11-23 03:04:05Z"),  # Ansible's now(utc=true): naive, UTC
        ("2026-11-23T11:04:05+08:00", "2026-11-23 03:04:05Z"),
        ("2026-11-23T03:04:05Z", "2026-11-23 03:04:05Z"),
        ("not a time", "not a time"),
        (None, "-"),
    ],
)
def test_record_times_show_their_zone(value, text):
    assert utc_time(value) == text


def test_a_hosts_report_says_which_backup_a_rollback_restored():
    assert (
        report_detail({"outcome": "rolled_back", "rollback": {"id": "RUN1-h-before-0101"}})
        == "restored RUN1-h-before-0101"
    )
    patched = {
        "packages_changed": {"changed": {"a": "1 -> 2", "b": "1 -> 2"}, "added": ["c"], "removed": []},
        "backup_before": {"id": "B1"},
        "backup_after": {"id": "B2"},
    }
    assert report_detail(patched) == "2 changed, 1 added; backup before B1; backup after B2"
    assert report_detail(None) == ""
