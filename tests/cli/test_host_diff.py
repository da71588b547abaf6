"""Asset history: every inspection kept (bounded), host show and host diff name what changed."""

from __future__ import annotations

from ccops.store.records import Store
from tests.conftest import EXAMPLE
from tests.fleet_records import BASE, comply, inspect, record
from tests.json_output import payload

HOST = "njjy-db0001"
T1, T2, T3 = "2026-11-20T06:00:00+00:00", "2026-11-21T06:00:00+00:00", "2026-11-22T06:00:00+00:00"


def changed_record() -> dict:
    """BASE a day later: a package installed by hand, a disk filling, cron stopped, ssh failed, a reboot."""
    return record(
        packages={"count": 4, "items": {**BASE["packages"]["items"], "nmap": "7.93-1", "vim": "9.0-2"}},
        disks=[{"mount": "/", "size_mb": 10000, "free_mb": 3500, "used_pct": 65}],
        services=[
            {"name": "ssh.service", "state": "failed", "status": "enabled"},
            {"name": "cron.service", "state": "stopped", "status": "enabled"},
        ],
        uptime_seconds=600,
    )


def test_host_diff_shows_every_kind_of_change(ccops):
    store = Store(ccops.home / "ccops.db")
    inspect(store, "20261120T060000Z-aaaaaa", {HOST: record()}, at=T1)
    comply(store, "20261120T070000Z-cccccc", {HOST: [{"policy": "usb_storage", "detail": "usb-storage loadable"}]})
    inspect(store, "20261121T060000Z-bbbbbb", {HOST: changed_record()}, at=T2)

    result = ccops("host", "diff", HOST)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "+ nmap 7.93-1" in out
    assert "~ vim 9.0-1 -> 9.0-2" in out
    assert "/ filling: free 6000 -> 3500 MB (-2500 MB), used 40% -> 65%" in out
    assert "stopped cron.service" in out and "FAILED ssh.service" in out
    assert "out of policy: usb_storage: usb-storage loadable" in out
    assert "uptime: reset" in out

    data = payload(ccops("host", "diff", HOST, "-o", "json").stdout)
    assert data["packages"]["added"] == [{"name": "nmap", "version": "7.93-1"}]
    assert data["disks"][0]["change"] == "filling"
    assert data["uptime"]["reset"] is True

    show = ccops("host", "show", HOST, "-i", str(EXAMPLE))
    assert show.returncode == 0, show.stderr
    assert "changes since the previous inspection (2026-11-20T06:00:00+00:00, 2 kept):" in show.stdout
    assert "+ nmap 7.93-1" in show.stdout
    assert "OUT OF POLICY, 1 deviation(s)" in show.stdout


def test_no_change_and_a_first_inspection(ccops):
    store = Store(ccops.home / "ccops.db")
    inspect(store, "20261120T060000Z-aaaaaa", {HOST: record()}, at=T1)
    one = ccops("host", "diff", HOST)
    assert one.returncode == 1 and "one inspection" in one.stderr and "Traceback" not in one.stderr
    show = ccops("host", "show", HOST, "-i", str(EXAMPLE))
    assert "compliance: never checked" in show.stdout
    assert "changes: none to show yet" in show.stdout
    uptime_later = record(uptime_seconds=BASE["uptime_seconds"] + 86400)  # no reboot: the same boot time
    inspect(store, "20261121T060000Z-bbbbbb", {HOST: uptime_later}, at=T2)
    assert ccops("host", "diff", HOST).stdout.splitlines()[1:] == ["no change"]
    never = ccops("host", "diff", "nosuch-host")
    assert never.returncode == 64 and "never inspected" in never.stderr  # an unknown name, as everywhere


def test_since_picks_a_time_or_a_run(ccops):
    store = Store(ccops.home / "ccops.db")
    inspect(store, "20261120T060000Z-aaaaaa", {HOST: record()}, at=T1)
    inspect(store, "20261121T060000Z-bbbbbb", {HOST: record(uptime_seconds=10)}, at=T2)
    inspect(store, "20261122T060000Z-dddddd", {HOST: changed_record()}, at=T3)
    by_date = payload(ccops("host", "diff", HOST, "--since", "2026-11-20T12:00", "-o", "json").stdout)
    assert by_date["from"]["run_id"] == "20261120T060000Z-aaaaaa"
    by_run = payload(ccops("host", "diff", HOST, "--since", "20261121T060000Z-bb", "-o", "json").stdout)
    assert by_run["from"]["run_id"] == "20261121T060000Z-bbbbbb"
    before_all = ccops("host", "diff", HOST, "--since", "2020-01-01")
    assert "compared with the oldest kept" in before_all.stdout
    bad = ccops("host", "diff", HOST, "--since", "2026-13-45")
    assert bad.returncode == 1 and "not a date" in bad.stderr and "Traceback" not in bad.stderr


def test_pending_security_keeps_the_time_it_was_first_seen(ccops):
    store = Store(ccops.home / "ccops.db")
    inspect(store, "20261120T060000Z-aaaaaa", {HOST: record()}, at=T1)
    inspect(store, "20261121T060000Z-bbbbbb", {HOST: record()}, at=T2)
    level = store.asset(HOST)["record"]["patch_level"]
    assert level["security"] == 1 and level["security_since"] == T1
    assert level["security_items"] == [{"name": "openssl", "to": "3.0.2-1", "since": T1}]
    patched = record(updates={"pending": 0, "security": 0, "items": []})
    inspect(store, "20261122T060000Z-dddddd", {HOST: patched}, at=T3)
    assert store.asset(HOST)["record"]["patch_level"]["security_since"] is None


def test_history_is_bounded(ccops, monkeypatch):
    monkeypatch.setenv("CCOPS_ASSET_VERSIONS", "3")
    store = Store(ccops.home / "ccops.db")
    for day in range(1, 6):
        inspect(store, f"2026110{day}T060000Z-aaaaaa", {HOST: record()}, at=f"2026-11-0{day}T06:00:00+00:00")
    versions = store.asset_versions(HOST)
    whole = [v["run_id"] for v in versions if v["whole"]]
    assert whole == ["20261105T060000Z-aaaaaa", "20261104T060000Z-aaaaaa", "20261103T060000Z-aaaaaa"]
    assert len(versions) == 5 and all(v["summary"]["packages"] == 3 for v in versions)  # summaries stay
    assert store.asset_version(HOST, "20261101T060000Z-aaaaaa")["damaged"] == ["record"]
    since = payload(ccops("host", "diff", HOST, "--since", "2026-11-01T12:00", "-o", "json").stdout)
    assert since["from"]["run_id"] == "20261103T060000Z-aaaaaa" and "oldest kept" in since["note"]
    # summaries older than 90 days before the newest inspection go
    inspect(store, "20270301T060000Z-ffffff", {HOST: record()}, at="2027-03-01T06:00:00+00:00")
    assert [v["run_id"] for v in store.asset_versions(HOST)] == ["20270301T060000Z-ffffff"]


def test_a_late_older_record_does_not_replace_the_latest(ccops):
    """A spooled record replayed after newer inspections joins the history without becoming the latest."""
    store = Store(ccops.home / "ccops.db")
    inspect(store, "20261105T060000Z-aaaaaa", {HOST: record()}, at=T2)
    inspect(store, "20261104T120000Z-eeeeee", {HOST: record(uptime_seconds=5)}, at=T1)
    assert store.asset(HOST)["run_id"] == "20261105T060000Z-aaaaaa"
    assert [v["run_id"] for v in store.asset_versions(HOST)] == ["20261105T060000Z-aaaaaa", "20261104T120000Z-eeeeee"]


def test_a_bad_retention_is_one_line(ccops):
    env_run = ccops(
        "host",
        "diff",
        HOST,
        env={**__import__("os").environ, "CCOPS_HOME": str(ccops.home), "CCOPS_ASSET_VERSIONS": "lots"},
    )
    assert env_run.returncode == 1 and "CCOPS_ASSET_VERSIONS='lots'" in env_run.stderr
