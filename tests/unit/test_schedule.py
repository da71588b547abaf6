"""Schedules: read from the inventory like site files, fired in the site's time, refusals recorded.

The firing is driven with the scripted engine (tests/scripted.py); the real CLI and the
systemd units are tested in tests/cli/test_schedule_cli.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ccops.errors import EXIT_HALTED, EXIT_OK, EXIT_REFUSED, InventoryError, RefusedError
from ccops.inventory.load import load_inventory
from ccops.plan.maintenance import window_open
from ccops.run import open_store, resume_run
from ccops.schedule.fire import fire, schedule_lock
from ccops.schedule.model import load_schedules
from ccops.schedule.timing import firings, on_calendar
from tests.conftest import EXAMPLE, write_inventory
from tests.scripted import ScriptedEngine

OPEN = '[{start: "00:00", end: "00:00"}]'  # a whole-day window every day: always open
SITE = """\
site:
  code: tst
  city: testcity
  timezone: Asia/Shanghai
  maintenance_windows: WINDOWS
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
    change_id: STD-PATCH
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _inventory(tmp_path: Path, windows: str = OPEN, schedules: str = SCHEDULES, offline: bool = False) -> Path:
    folder = write_inventory(tmp_path / "inv", {"tst.yml": SITE.replace("WINDOWS", windows)})
    (folder / "schedules.yml").write_text(schedules)
    if offline:
        (folder / "ccops.yml").write_text("plugin: ccops\nsites: sites\noffline: true\n")
    return folder


def _problems(tmp_path: Path, schedules: str) -> str:
    inventory = load_inventory(_inventory(tmp_path, schedules=schedules))
    with pytest.raises(InventoryError) as caught:
        load_schedules(inventory)
    return str(caught.value)


# -- reading schedules.yml ---------------------------------------------------------------------


def test_the_example_inventory_declares_a_week_of_schedules():
    schedules = load_schedules(load_inventory(EXAMPLE))
    assert {s.run for s in schedules.values()} >= {"inspect", "patch", "comply --check"}
    patch = next(s for s in schedules.values() if s.run == "patch")
    assert patch.verb == "patch" and patch.window and patch.change_id
    assert patch.selector.sites == (patch.site,)


@pytest.mark.parametrize(
    ("entry", "line", "expected"),
    [
        ('name: "../../etc/x"', 2, "lower-case letters, digits and '-'"),
        ('name: "a b; rm -rf /"', 2, "lower-case letters, digits and '-'"),
        ('name: "UPPER"', 2, "lower-case letters"),
        ('name: "x\\nExecStart=/bin/sh"', 2, "lower-case letters"),
        ("name: \"{{ lookup('pipe', 'id') }}\"", 2, "templated"),
        ('run: "inspect; reboot"', 4, "unknown value"),
        ('change_id: "{{ x }}"', 6, "templated"),
        ('change_id: "CHG\\n1"', 6, "control character"),
        ("at: 12:30", 5, 'write it in quotes: "12:30"'),  # YAML 1.1 reads 12:30 as the number 750
        ('at: "24:00"', 5, "00:00 to 23:59"),
        ("dayz: [mon]", 7, "did you mean 'days'"),
        ("days: [monday]", 7, "unknown value 'monday'"),
        ("site: nosuch", 3, "not in the inventory"),
        ("window: open", 2, "not both"),
        ('options: {reboot: "now"}', 7, "unknown value 'now'"),
    ],
)
def test_a_hostile_or_mistyped_schedule_is_refused_with_its_file_and_line(tmp_path, entry, line, expected):
    fields = {
        "name": 'name: "ok"',
        "site": "site: tst",
        "run": "run: patch",
        "at": 'at: "02:30"',
        "id": "change_id: C-1",
    }
    key = entry.split(":")[0]
    fields = {k: (entry if v.split(":")[0] == key else v) for k, v in fields.items()}
    lines = ["schedules:", *(f"  {'- ' if i == 0 else '  '}{v}" for i, v in enumerate(fields.values()))]
    if key not in {v.split(":")[0] for v in fields.values()} or entry not in fields.values():
        lines.append(f"    {entry}")
    text = "\n".join(lines) + "\n"
    message = _problems(tmp_path, text)
    assert f"schedules.yml:{line}:" in message, (text, message)
    assert expected in message, message
    assert "\n" not in message.strip() or all(":" in m for m in message.splitlines())


def test_a_name_declared_twice_is_refused(tmp_path):
    text = SCHEDULES + SCHEDULES.split("\n", 1)[1]
    assert "schedules.yml:12: schedule 'tst-inspect' is declared twice" in _problems(tmp_path, text)


# -- when they fire -----------------------------------------------------------------------------


def test_firings_are_in_site_time_and_cross_the_utc_day_boundary(tmp_path):
    inventory = load_inventory(_inventory(tmp_path))
    schedule = load_schedules(inventory)["tst-inspect"]
    start = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)  # Mon 08:00 in Shanghai (UTC+8, no DST)
    got = [f.astimezone(UTC) for f in firings(schedule, inventory.sites["tst"], start, 2)]
    # 02:30 in Shanghai is 18:30 UTC the day before: Mon 02:30 local had passed at the start
    assert got == [datetime(2026, 12, 7, 18, 30, tzinfo=UTC), datetime(2026, 12, 8, 18, 30, tzinfo=UTC)]
    assert on_calendar(schedule, inventory.sites["tst"]) == ["*-*-* 02:30:00 Asia/Shanghai"]


def test_days_are_the_sites_days_not_utcs(tmp_path):
    text = SCHEDULES.replace('at: "02:30"', 'at: "02:30"\n    days: [mon]')
    inventory = load_inventory(_inventory(tmp_path, schedules=text))
    schedule = load_schedules(inventory)["tst-inspect"]
    start = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
    got = firings(schedule, inventory.sites["tst"], start, 7)
    assert [(f.strftime("%a %H:%M"), f.astimezone(UTC).strftime("%a %H:%M")) for f in got] == [
        ("Mon 02:30", "Sun 18:30")
    ]
    assert on_calendar(schedule, inventory.sites["tst"]) == ["Mon *-*-* 02:30:00 Asia/Shanghai"]


def test_window_open_fires_when_each_window_starts(tmp_path):
    windows = (
        '[{days: [mon, tue, wed, thu, fri], start: "01:00", end: "05:00"}, {days: [sat], start: "22:00", end: "04:00"}]'
    )
    inventory = load_inventory(_inventory(tmp_path, windows=windows))
    schedule = load_schedules(inventory)["tst-patch"]
    start = datetime(2026, 12, 4, 0, 0, tzinfo=UTC)  # Fri 08:00 in Shanghai
    got = [f.strftime("%a %H:%M") for f in firings(schedule, inventory.sites["tst"], start, 4)]
    assert got == ["Sat 22:00", "Mon 01:00", "Tue 01:00"]
    # at each of those moments the window is open: a changing verb fired then is not refused for it
    site = inventory.sites["tst"]
    assert all(window_open(site, f) for f in firings(schedule, site, start, 4))
    assert on_calendar(schedule, inventory.sites["tst"]) == [
        "Mon,Tue,Wed,Thu,Fri *-*-* 01:00:00 Asia/Shanghai",
        "Sat *-*-* 22:00:00 Asia/Shanghai",
    ]


# -- firing -------------------------------------------------------------------------------------


def _record(run_id: str):
    record = open_store().run(run_id)
    assert record is not None
    return record


def test_a_firing_runs_the_verb_under_its_standing_change_and_says_so(home, tmp_path):
    engine = ScriptedEngine()
    firing = fire(_inventory(tmp_path), "tst-inspect", engine=engine)
    assert (firing.status, firing.exit_code) == ("succeeded", EXIT_OK)
    assert sorted(h for b in engine.batches for h in b.hosts) == ["tst-t01", "tst-t02", "tst-t03"]
    record = _record(firing.run_id)
    assert record.verb == "inspect" and record.change_id == "STD-INSPECT"
    assert record.request["schedule"]["name"] == "tst-inspect"
    assert record.request["schedule"]["standing"] is True
    assert record.request["schedule"]["change_id"] == "STD-INSPECT"


def test_a_changing_schedule_finding_the_window_closed_is_recorded_as_refused(home, tmp_path):
    engine = ScriptedEngine()
    firing = fire(_inventory(tmp_path, windows="[]"), "tst-patch", engine=engine)  # no window: always closed
    assert (firing.status, firing.exit_code) == ("refused", EXIT_REFUSED)
    assert engine.batches == []
    record = _record(firing.run_id)
    assert record.status == "refused" and record.exit_code == EXIT_REFUSED
    assert "maintenance window closed at site tst" in (record.message or "")
    assert record.request["schedule"] == {**record.request["schedule"], "name": "tst-patch", "standing": True}
    assert record.change_id == "STD-PATCH"


def test_a_firing_of_an_offline_inventory_is_recorded_as_refused_and_contacts_nothing(home, tmp_path):
    engine = ScriptedEngine()
    firing = fire(_inventory(tmp_path, offline=True), "tst-inspect", engine=engine)
    assert firing.status == "refused" and engine.batches == []
    assert "marked offline" in (_record(firing.run_id).message or "")


def test_after_a_halted_run_the_next_firing_is_refused_and_queues_nothing(home, tmp_path):
    inventory = _inventory(tmp_path)
    engine = ScriptedEngine({"tst-t01": "failed"})  # the canary fails: the gate halts the run
    first = fire(inventory, "tst-patch", engine=engine)
    assert first.exit_code == EXIT_HALTED
    asked = len(engine.batches)
    second = fire(inventory, "tst-patch", engine=engine)
    assert second.status == "refused" and len(engine.batches) == asked
    assert f"previous run {first.run_id} of schedule tst-patch halted" in second.message
    third = fire(inventory, "tst-patch", engine=engine)  # still refused: a refusal does not clear it
    assert third.status == "refused" and len(engine.batches) == asked
    # another schedule is not held back by this one
    assert fire(inventory, "tst-inspect", engine=ScriptedEngine()).exit_code == EXIT_OK


def test_a_previous_run_still_running_refuses_the_firing(home, tmp_path):
    inventory = _inventory(tmp_path)
    store = open_store()
    store.start_run(
        "20261207T000000Z-running",
        "inspect",
        operator="t",
        change_id="STD-INSPECT",
        git_commit=None,
        inventory=str(inventory),
        inventory_sha256="0",
        selectors={},
        request={"schedule": {"name": "tst-inspect", "standing": True}},
        plan={"waves": []},
    )
    engine = ScriptedEngine()
    firing = fire(inventory, "tst-inspect", engine=engine)
    assert firing.status == "refused" and engine.batches == []
    assert "20261207T000000Z-running of schedule tst-inspect is still running" in firing.message


def test_a_second_firing_while_the_first_holds_the_lock_is_refused(home, tmp_path):
    inventory = _inventory(tmp_path)
    engine = ScriptedEngine()
    with schedule_lock("tst-inspect") as held:  # the first firing, mid-run
        assert held
        second = fire(inventory, "tst-inspect", engine=engine)
    assert second.status == "refused" and engine.batches == []
    assert "another firing of schedule tst-inspect is still running" in second.message
    assert fire(inventory, "tst-inspect", engine=engine).exit_code == EXIT_OK  # the lock went with it


def test_a_refused_firing_cannot_be_resumed_into_a_success(home, tmp_path):
    firing = fire(_inventory(tmp_path, windows="[]"), "tst-patch", engine=ScriptedEngine())
    with pytest.raises(RefusedError, match="was refused before it started"):
        resume_run(firing.run_id, engine=ScriptedEngine())
    assert _record(firing.run_id).status == "refused"


REAPPLY = (
    SCHEDULES
    + """\
  - name: tst-reapply
    site: tst
    run: reapply
    window: open
    change_id: STD-REAPPLY
"""
)


def test_a_reapply_firing_with_no_host_reverted_runs_and_records_nothing(home, tmp_path):
    engine = ScriptedEngine()
    firing = fire(_inventory(tmp_path, schedules=REAPPLY), "tst-reapply", engine=engine)
    assert (firing.status, firing.exit_code, firing.result) == ("nothing", EXIT_OK, None)
    assert "no host took back an approved patch" in firing.message
    assert engine.batches == [] and open_store().runs() == []


def test_a_reapply_firing_outside_the_window_is_refused_as_a_patch(home, tmp_path):
    schedule = load_schedules(load_inventory(_inventory(tmp_path, schedules=REAPPLY)))["tst-reapply"]
    assert (schedule.verb, schedule.options) == ("patch", {})
    firing = fire(_inventory(tmp_path / "closed", windows="[]", schedules=REAPPLY), "tst-reapply")
    assert firing.status == "refused" and "maintenance window closed" in firing.message
