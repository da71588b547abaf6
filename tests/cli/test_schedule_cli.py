"""ccops schedule through the real CLI: look-ahead, firing under a held lock, systemd units that verify."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ccops.errors import EXIT_OK, EXIT_REFUSED
from tests.conftest import ROOT, ccops_env, run_ccops, run_scripted, write_inventory
from tests.json_output import payload

SITE = """\
site:
  code: tst
  city: testcity
  timezone: Asia/Shanghai
  maintenance_windows: [{days: [sat, sun], start: "00:00", end: "06:00"}]
  rollout: {canary: 1, waves: ["100%"], batch_size: 2, max_fail_percentage: 0}
connections:
  linux: {type: ssh, user: ccops, become: true}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: tst-t[01:03]
    addresses: 127.0.0.9
  - name: old
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    lifecycle: retired
    hosts: tst-old01
    addresses: 127.0.0.20
"""
SCHEDULES = """\
schedules:
  - name: tst-inspect
    site: tst
    run: inspect
    at: "02:30"
    change_id: STD-INSPECT
  - name: tst-patch
    site: tst
    run: patch
    window: open
    days: [sat]
    change_id: STD-PATCH
"""


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    folder = write_inventory(tmp_path / "inv", {"tst.yml": SITE})
    (folder / "schedules.yml").write_text(SCHEDULES)
    return folder


def test_next_shows_each_firing_in_site_and_utc_time_with_the_hosts(tmp_path, inventory):
    proc = run_ccops(
        tmp_path / "home", "schedule", "next", "-i", str(inventory), "--days", "2", "--from", "2026-12-04T16:30Z",
        "-o", "json",
    )  # fmt: skip
    assert proc.returncode == EXIT_OK, proc.stderr
    got = [(f["schedule"], f["local"], f["utc"]) for f in payload(proc.stdout)]
    assert got == [
        ("tst-inspect", "Sat 2026-12-05 02:30 Asia/Shanghai", "2026-12-04 18:30 UTC"),
        ("tst-inspect", "Sun 2026-12-06 02:30 Asia/Shanghai", "2026-12-05 18:30 UTC"),
        # Sat 00:00 in Shanghai was Fri 16:00 UTC, before --from; next Saturday is past --days
    ]
    first = payload(proc.stdout)[0]
    assert first["touches"] == ["tst-t01", "tst-t02", "tst-t03"]
    assert [h for refused in first["refuses"] for h in refused["hosts"]] == ["tst-old01"]


def test_next_refuses_a_changing_firing_outside_the_window(tmp_path, inventory):
    text = SCHEDULES.replace("    window: open\n    days: [sat]\n", '    at: "12:00"\n')
    (inventory / "schedules.yml").write_text(text)
    proc = run_ccops(
        tmp_path / "home", "schedule", "next", "-i", str(inventory), "--days", "1", "--from", "2026-12-05T00:00Z"
    )
    assert proc.returncode == EXIT_OK, proc.stderr
    assert "Sat 2026-12-05 12:00 Asia/Shanghai (2026-12-05 04:00 UTC)  tst-patch: patch" in proc.stdout
    assert "refuses 3 host(s): tst-t01, tst-t02, tst-t03: maintenance window closed at site tst" in proc.stdout


def _hold(home: Path, name: str) -> int:
    """Take the schedule's lock as a firing in progress does."""
    folder = home / "schedules"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    home.chmod(0o700)
    fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_two_firings_of_one_schedule_one_runs_one_is_refused_and_recorded(tmp_path, inventory):
    home = tmp_path / "home"
    hosts = tmp_path / "hosts.json"
    fd = _hold(home, "tst-inspect")  # the first firing is running
    try:
        second = run_scripted(
            "tests.cli.scripted_cli", home, hosts, {}, "schedule", "run", "tst-inspect", "-i", str(inventory)
        )
    finally:
        os.close(fd)
    assert second.returncode == EXIT_REFUSED, second.stderr
    assert second.stderr.count("\n") == 1 and "another firing of schedule tst-inspect" in second.stderr
    third = run_scripted(
        "tests.cli.scripted_cli", home, hosts, {}, "schedule", "run", "tst-inspect", "-i", str(inventory)
    )
    assert third.returncode == EXIT_OK, third.stderr
    runs = payload(run_ccops(home, "runs", "list", "-o", "json", check=True).stdout)
    assert sorted(r["status"] for r in runs) == ["refused", "succeeded"]
    refused = next(r for r in runs if r["status"] == "refused")
    shown = run_ccops(home, "runs", "show", refused["run_id"], check=True).stdout
    assert "refused (exit 5)" in shown
    assert "schedule         tst-inspect, unattended under standing change STD-INSPECT" in shown
    assert "another firing of schedule tst-inspect is still running" in shown


def test_units_pass_systemd_analyze_verify_and_remove_takes_only_its_own(tmp_path):
    # an inventory path a shell or systemd would misread: spaces, quotes, specifiers, variables
    folder = write_inventory(tmp_path / 'inv 50% "$HOME" \\x', {"tst.yml": SITE})
    (folder / "schedules.yml").write_text(SCHEDULES)
    units = tmp_path / "units"
    units.mkdir()
    (units / "other.service").write_text("[Service]\nExecStart=/bin/true\n")
    home = tmp_path / "home"
    proc = run_ccops(home, "schedule", "install", "-i", str(folder), "--unit-dir", str(units))
    assert proc.returncode == EXIT_OK, proc.stderr
    written = sorted(p.name for p in units.glob("ccops-schedule-*"))
    assert written == [f"ccops-schedule-{n}.{k}" for n in ("tst-inspect", "tst-patch") for k in ("service", "timer")]
    verify = subprocess.run(
        [shutil.which("systemd-analyze") or "systemd-analyze", "verify", *(str(units / n) for n in written)],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stderr
    assert "ccops-schedule" not in verify.stderr, verify.stderr
    timer = (units / "ccops-schedule-tst-patch.timer").read_text()
    assert "OnCalendar=Sat *-*-* 00:00:00 Asia/Shanghai\n" in timer and "Persistent=true\n" in timer
    service = (units / "ccops-schedule-tst-inspect.service").read_text()
    assert '"schedule" "run" "tst-inspect" "-i"' in service
    quoted = str(tmp_path) + r"/inv 50%% \"$$HOME\" \\x"  # systemd's quoting: no specifier, no variable
    assert f'"{quoted}"' in service
    removed = run_ccops(home, "schedule", "remove", "--unit-dir", str(units))
    assert removed.returncode == EXIT_OK, removed.stderr
    assert sorted(p.name for p in units.iterdir()) == ["other.service"]


def test_a_hostile_schedules_file_is_one_line_per_problem_with_file_and_line(tmp_path, inventory):
    (inventory / "schedules.yml").write_text(
        'schedules:\n  - name: "x\\u001b]52;c;aGk=\\u0007\\nExecStart=/bin/sh"\n    site: tst\n'
        '    run: "inspect --limit *"\n    at: "02:30"\n    change_id: C-1\n    dayz: [mon]\n'
    )
    for command in (("list",), ("next",), ("run", "x"), ("install", "--unit-dir", str(tmp_path / "units"))):
        proc = run_ccops(tmp_path / "home", "schedule", *command, "-i", str(inventory))
        assert proc.returncode == 1, (command, proc.stderr)
        lines = proc.stderr.splitlines()
        assert [line.split(":")[1] for line in lines] == ["2", "4", "7"], lines
        assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr and "Traceback" not in proc.stderr
        assert "did you mean 'days'" in lines[2]
    assert not (tmp_path / "units").exists()
    assert (
        not (tmp_path / "home" / "ccops.db").exists()
        or "refused" not in run_ccops(tmp_path / "home", "runs", "list").stdout
    )


def test_next_shows_firings_held_back_by_a_halted_run(tmp_path, inventory):
    home = tmp_path / "home"
    run_id = "20261205T000000Z-halted1"
    code = f"""
from ccops.store.records import Store
from ccops.paths import state_dir
store = Store(state_dir() / "ccops.db")
store.start_run({run_id!r}, "patch", operator="t", change_id="STD-PATCH", git_commit=None, inventory="x",
    inventory_sha256="0", selectors={{}}, request={{"schedule": {{"name": "tst-patch", "standing": True}}}},
    plan={{"waves": []}})
store.finish_run({run_id!r}, "halted", 3, "halted before the next batch")
"""
    subprocess.run([sys.executable, "-c", code], env=ccops_env(home), check=True, cwd=ROOT, timeout=60)
    proc = run_ccops(home, "schedule", "next", "-i", str(inventory), "--days", "7", "--from", "2026-12-04T00:00Z")
    assert proc.returncode == EXIT_OK, proc.stderr
    assert f"refuses 3 host(s): tst-t01, tst-t02, tst-t03: previous run {run_id} halted" in proc.stdout
    assert "touches 3 host(s)" in proc.stdout  # tst-inspect is not held back by another schedule's run


def test_a_refused_firing_is_pushed_to_the_people_on_duty(tmp_path, inventory, monkeypatch):
    from tests.cli.notify_receiver import Receiver
    from tests.cli.test_notify import RULES, free_port
    from tests.notify_fixtures import SECRET

    port = free_port()
    (inventory / "notify.yml").write_text(RULES.format(port=port))
    home = tmp_path / "home"
    fd = _hold(home, "tst-inspect")  # a firing is still running: the next one is refused
    try:
        with Receiver(SECRET, port) as receiver:
            monkeypatch.setenv("CCOPS_TEST_HOOK_SECRET", SECRET)  # the channel's secret, as the unit's env gives it
            refused = run_scripted(
                "tests.cli.scripted_cli",
                home,
                tmp_path / "hosts.json",
                {},
                "schedule",
                "run",
                "tst-inspect",
                "-i",
                str(inventory),
            )
    finally:
        os.close(fd)
    assert refused.returncode == EXIT_REFUSED, refused.stderr
    assert [(m["status"], m["verb"]) for m in receiver.accepted] == [("refused", "inspect")]


REAPPLY_SITE = SITE.replace('{days: [sat, sun], start: "00:00", end: "06:00"}', '{start: "00:00", end: "00:00"}')
REAPPLY_SCHEDULES = """\
schedules:
  - name: tst-reapply
    site: tst
    run: reapply
    window: open
    change_id: STD-REAPPLY
"""


def _seed_reverted(home: Path, inv: Path, monkeypatch: pytest.MonkeyPatch, found: str) -> str:
    """A patch run left openssl 3.0.15 on tst-t01; a later inspection found FOUND there."""
    from ccops.store import records
    from ccops.store.records import Store

    stamps = iter(f"2026-12-0{d}+00:00" for d in ("1T10:00:00", "1T10:00:00", "1T10:20:00") + ("3T08:00:00",) * 4)
    monkeypatch.setattr(records, "now", lambda: next(stamps, "2026-12-03T08:01:00+00:00"))
    home.mkdir(mode=0o700, exist_ok=True)
    store = Store(home / "ccops.db")
    patch_run, inspect_run = "20261201T100000Z-patch001", "20261203T080000Z-insp0001"
    after = {"outcome": "patched", "reason": "", "versions_after": {"openssl": "3.0.15-1~deb12u1"}}
    store.start_run(
        patch_run, "patch", operator="op", change_id="CHG-9", git_commit=None, inventory=str(inv),
        inventory_sha256="0" * 64, selectors={}, request={"verb": "patch", "options": {"ccops_reboot": "always"}},
        plan=[],
    )  # fmt: skip
    store.record_hosts(patch_run, [{"host": "tst-t01", "outcome": "ok", "changed": True, "report": after}])
    store.finish_run(patch_run, "succeeded", 0, "ok=1")
    seen = {"outcome": "inspected", "uptime_seconds": 60, "packages": {"count": 1, "items": {"openssl": found}}}
    store.start_run(
        inspect_run, "inspect", operator="op", change_id=None, git_commit=None, inventory=str(inv),
        inventory_sha256="0" * 64, selectors={}, request={"verb": "inspect"}, plan=[],
    )  # fmt: skip
    store.save_assets(inspect_run, {"tst-t01": seen})
    store.finish_run(inspect_run, "succeeded", 0, "ok=1")
    return patch_run


@pytest.mark.parametrize("found", ["3.0.11-1~deb12u1", "3.0.15-1~deb12u1"], ids=["reverted", "kept"])
def test_a_reapply_schedule_patches_only_the_reverted_host_under_its_standing_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, found: str
) -> None:
    home = tmp_path / "home"
    inv = write_inventory(tmp_path / "inv", {"tst.yml": REAPPLY_SITE})
    (inv / "schedules.yml").write_text(REAPPLY_SCHEDULES)
    patch_run = _seed_reverted(home, inv, monkeypatch, found)
    ahead = run_ccops(home, "schedule", "next", "--days", "2", "-i", str(inv), "-o", "json", check=True).stdout
    reverted = [] if found.startswith("3.0.15") else ["tst-t01"]  # the look-ahead names only what goes back
    assert payload(ahead) and all(f["touches"] == reverted for f in payload(ahead))
    fired = run_scripted(
        "tests.cli.scripted_cli", home, tmp_path / "hosts.json", {}, "schedule", "run", "tst-reapply", "-i", str(inv)
    )
    assert fired.returncode == EXIT_OK, fired.stderr
    patches = [
        r for r in payload(run_ccops(home, "runs", "list", "-o", "json", check=True).stdout) if r["run_id"] != patch_run
    ]
    patches = [r for r in patches if r["verb"] == "patch"]
    if found.startswith("3.0.15"):  # nothing went back: said, and nothing is run or recorded
        assert "no host took back an approved patch" in fired.stdout
        assert patches == []
        return
    assert len(patches) == 1 and patches[0]["status"] == "succeeded"
    shown = payload(run_ccops(home, "runs", "show", patches[0]["run_id"], "-o", "json", check=True).stdout)
    request = shown["request"]
    assert request["reason"] == f"reverted after {patch_run}"
    assert request["schedule"]["name"] == "tst-reapply" and request["schedule"]["standing"] is True
    assert request["change_id"] == "STD-REAPPLY" and request["selector"]["limit"] == ["tst-t01"]
    assert [h["host"] for h in shown["hosts"]] == ["tst-t01"]


def test_a_reapply_schedule_takes_no_options(tmp_path: Path) -> None:
    inv = write_inventory(tmp_path / "inv", {"tst.yml": REAPPLY_SITE})
    (inv / "schedules.yml").write_text(REAPPLY_SCHEDULES + "    options: {reboot: never}\n")
    proc = run_ccops(tmp_path / "home", "schedule", "list", "-i", str(inv))
    assert proc.returncode != EXIT_OK
    assert proc.stderr.count("\n") == 1 and "schedules.yml:7" in proc.stderr and "takes no options" in proc.stderr


def test_two_inventories_on_one_jump_host_keep_their_own_units(tmp_path):
    first = write_inventory(tmp_path / "first", {"tst.yml": SITE})
    (first / "schedules.yml").write_text(SCHEDULES)
    second = write_inventory(tmp_path / "second", {"tst.yml": SITE})
    (second / "schedules.yml").write_text(SCHEDULES.replace("tst-", "two-").replace("site: two", "site: tst"))
    units, home = tmp_path / "units", tmp_path / "home"
    for folder in (first, second):
        proc = run_ccops(home, "schedule", "install", "-i", str(folder), "--unit-dir", str(units))
        assert proc.returncode == EXIT_OK, proc.stderr
    names = sorted(p.name for p in units.iterdir())
    assert len(names) == 8  # installing the second inventory's schedules left the first's in place
    before = {p.name: p.read_bytes() for p in units.iterdir()}
    (second / "schedules.yml").write_text(SCHEDULES)  # now it names a schedule the first inventory installed
    clash = run_ccops(home, "schedule", "install", "-i", str(second), "--unit-dir", str(units))
    assert clash.returncode != EXIT_OK and "installed for inventory" in clash.stderr
    assert len(clash.stderr.strip().splitlines()) == 1 and str(first) in clash.stderr
    assert {p.name: p.read_bytes() for p in units.iterdir()} == before  # nothing written, nothing removed
    gone = run_ccops(home, "schedule", "remove", "-i", str(second), "--unit-dir", str(units))
    assert gone.returncode == EXIT_OK, gone.stderr
    assert sorted(p.name for p in units.iterdir()) == [n for n in names if n.startswith("ccops-schedule-tst-")]


@pytest.mark.parametrize("broken", ["schedules.yml", "name"])
def test_a_firing_that_cannot_read_its_schedule_is_pushed_not_silent(tmp_path, inventory, monkeypatch, broken):
    from tests.cli.notify_receiver import Receiver
    from tests.cli.test_notify import RULES, free_port
    from tests.notify_fixtures import SECRET

    port = free_port()
    (inventory / "notify.yml").write_text(RULES.format(port=port))  # refused is among its events
    if broken == "schedules.yml":
        (inventory / "schedules.yml").write_text("schedules:\n  - name: [\n")
    home = tmp_path / "home"
    monkeypatch.setenv("CCOPS_TEST_HOOK_SECRET", SECRET)
    name = "tst-gone" if broken == "name" else "tst-inspect"
    with Receiver(SECRET, port) as receiver:
        proc = run_ccops(home, "schedule", "run", name, "-i", str(inventory))
    assert proc.returncode not in (EXIT_OK, EXIT_REFUSED) and len(proc.stderr.strip().splitlines()) == 1
    assert [m["event"] for m in receiver.accepted] == ["refused"]
    line = receiver.accepted[0]["lines"][0]
    assert "not fired" in line and ("schedules.yml" in line if broken == "schedules.yml" else "tst-gone" in line)
