"""asset_diff's thresholds: noise is not a change, a reboot is, a service's move is named once."""

from ccops.report.asset_diff import change_count, diff, disks_diff, services_diff, uptime_diff
from tests.fleet_records import record

DISK = {"mount": "/", "size_mb": 100_000, "free_mb": 50_000, "used_pct": 50}


def test_small_disk_moves_are_noise_large_ones_a_change():
    moved = lambda free: disks_diff({"disks": [DISK]}, {"disks": [{**DISK, "free_mb": free}]})  # noqa: E731
    assert moved(49_600) == []  # 400 MB on a 100 GB disk: under 0.5 %
    assert moved(49_000)[0]["change"] == "filling"
    assert moved(51_000)[0]["change"] == "freed"
    assert disks_diff({"disks": [DISK]}, {"disks": []}) == [{"mount": "/", "change": "removed"}]


def test_uptime_resets_only_when_the_boot_time_moved():
    old = {"uptime_seconds": 1000}
    assert not uptime_diff(old, "2026-11-20T06:00:00+00:00", {"uptime_seconds": 1060}, "2026-11-20T06:01:00+00:00")[
        "reset"
    ]
    assert uptime_diff(old, "2026-11-20T06:00:00+00:00", {"uptime_seconds": 30}, "2026-11-20T06:01:00+00:00")["reset"]
    assert not uptime_diff({}, "x", {"uptime_seconds": 5}, "y")["reset"]  # unknown is not a reboot


def test_service_moves():
    old = {"services": [{"name": "a", "state": "running"}, {"name": "b", "state": "stopped"}]}
    new = {
        "services": [
            {"name": "a", "state": "stopped"},
            {"name": "b", "state": "running"},
            {"name": "c", "state": "failed"},
        ]
    }
    assert services_diff(old, new) == {"started": ["b"], "stopped": ["a"], "failed": ["c"], "changed": []}


def test_identical_records_have_no_change():
    same = {"run_id": "r1", "collected": "2026-11-20T06:00:00+00:00", "record": record()}
    later = {"run_id": "r2", "collected": "2026-11-20T07:00:00+00:00", "record": record(uptime_seconds=86400 + 3600)}
    assert change_count(diff(same, later)) == 0
