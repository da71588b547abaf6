"""The capacity model: how long a planned run takes, learnt from the site's own past runs of the verb.

Histories are written through the store's public API with fixed clocks, so every duration is exact.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from ccops.inventory.select import Selector
from ccops.plan.render import plan_json, plan_markdown, plan_text
from ccops.run import RunRequest, execute, open_store, prepare
from ccops.runner.capacity import RunClock, estimate, learn, plan_estimate
from ccops.runner.progress import Progress
from ccops.store import records
from ccops.store.records import Store
from tests.conftest import write_inventory
from tests.scripted import ScriptedEngine

T0 = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)
LEAD = 3.0  # seconds from a batch's start to its first host's first event
TAIL = 1.0  # seconds from the last batch's end to the run's end

SITE = """\
site:
  code: {code}
  city: testcity
  timezone: UTC
  maintenance_windows: [{{start: "00:00", end: "00:00"}}]
  rollout: {{canary: 1, waves: ["100%"], batch_size: {size}, max_fail_percentage: 0}}
connections:
  linux: {{type: ssh, user: ccops, become: true}}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: {code}-t[01:09]
    addresses: 127.0.0.9
"""


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def past_run(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    run_id: str,
    verb: str,
    batches: list[tuple[str, int, float]],
    start: datetime,
    forks: int | None = None,
) -> None:
    """One finished run: batches of (site, hosts, seconds) one after another, recorded as the run loop does."""
    hosts = [[f"{b[0]}-{run_id}-{j}-{i:02d}" for i in range(b[1])] for j, b in enumerate(batches)]
    waves = [{"name": "all", "batches": [{"site": b[0], "hosts": h} for b, h in zip(batches, hosts, strict=True)]}]
    monkeypatch.setattr(records, "now", lambda: _iso(start))
    store.start_run(
        run_id,
        verb,
        operator="test",
        change_id="CHG-1",
        git_commit=None,
        inventory="inv",
        inventory_sha256="0" * 64,
        selectors={},
        request={} if forks is None else {"forks": forks},
        plan={"verb": verb, "waves": waves},
    )
    at = start
    for (_, _, seconds), names in zip(batches, hosts, strict=True):
        first, end = _iso(at + timedelta(seconds=LEAD)), _iso(at + timedelta(seconds=seconds))
        rows = [{"host": h, "outcome": "ok", "wave": "all", "started": first, "ended": end} for h in names]
        store.record_hosts(run_id, rows)
        at += timedelta(seconds=seconds)
    monkeypatch.setattr(records, "now", lambda: _iso(at + timedelta(seconds=TAIL)))
    store.finish_run(run_id, "succeeded", 0)


def nightly(
    store, monkeypatch, verb: str, batches: list[tuple[str, int, float]], nights: int, first: int = 0, forks=None
):
    for night in range(first, first + nights):
        past_run(store, monkeypatch, f"r{night:03d}", verb, batches, T0 + timedelta(days=night), forks)


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "ccops.db")


def test_estimate_scales_with_the_batches_and_their_size(store, monkeypatch):
    # batches of 2 hosts took 10 s, of 4 hosts 14 s: 6 s per batch and 2 s per host
    nightly(store, monkeypatch, "patch", [("lab", 2, 10), ("lab", 4, 14)], nights=3)
    model = learn(store, "patch")
    one = estimate(model, [[("lab", 4)]], set())
    three = estimate(model, [[("lab", 4), ("lab", 4), ("lab", 4)]], set())
    bigger = estimate(model, [[("lab", 6)]], set())
    assert one.sites[0].seconds == pytest.approx(14)
    assert three.sites[0].seconds == pytest.approx(42) and three.sites[0].batches == 3
    assert three.seconds == pytest.approx(42 + TAIL)
    assert bigger.sites[0].seconds == pytest.approx(18)  # a size never run: from the fixed and per-host parts


def test_one_batch_size_splits_at_the_wait_for_the_first_host(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", [("lab", 4, 23)], nights=2)
    site = estimate(learn(store, "inspect"), [[("lab", 8)]], set()).sites[0]
    assert site.seconds == pytest.approx(LEAD + (23 - LEAD) * 2) and site.sizes == (4,)


def test_recent_runs_weigh_more_and_one_slow_night_does_not_move_the_median(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", [("lab", 4, 100)], nights=6)  # a slower fleet, long ago
    nightly(store, monkeypatch, "inspect", [("lab", 4, 20)], nights=4, first=6)
    nightly(store, monkeypatch, "inspect", [("lab", 4, 300)], nights=1, first=10)  # the newest night was slow
    result = estimate(learn(store, "inspect"), [[("lab", 4)]], set())
    assert result.sites[0].seconds == pytest.approx(20)
    assert result.runs == 5 and "from the 5 most recent past inspect run(s)" in result.summary()


def test_no_history_says_so_and_gives_no_number(store):
    result = estimate(learn(store, "patch"), [[("lab", 2), ("lab", 2)]], set())
    assert result.seconds is None and result.sites[0].seconds is None
    assert result.summary() == "no past patch runs to estimate from"
    assert result.as_dict()["seconds"] is None and result.as_dict()["sites"][0]["batches"] == 2


def test_a_run_of_another_verb_or_site_is_not_used(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", [("lab", 2, 30)], nights=3)
    nightly(store, monkeypatch, "patch", [("hq", 2, 50)], nights=3, first=3)
    result = estimate(learn(store, "patch"), [[("lab", 2)], [("hq", 2)]], set())
    by_site = {s.site: s for s in result.sites}
    assert by_site["lab"].seconds is None and by_site["hq"].seconds == pytest.approx(50)
    assert result.seconds is None and "no past patch runs at lab" in result.summary()


def test_few_runs_say_how_many_the_estimate_rests_on(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", [("lab", 3, 12)], nights=2)
    result = estimate(learn(store, "inspect"), [[("lab", 3)]], set())
    assert result.summary() == "about 13s in total, from the 2 most recent past inspect run(s) (few: a rough figure)"


def test_sites_beside_each_other_add_up_per_wave_as_the_longest_lane(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", [("a", 2, 30), ("b", 2, 40), ("c", 2, 10)], nights=3)
    model = learn(store, "inspect")
    waves = [[("a", 2), ("b", 2), ("c", 2)]]
    assert estimate(model, waves, set()).seconds == pytest.approx(80 + TAIL)  # one after another
    assert estimate(model, waves, {"b"}).seconds == pytest.approx(40 + TAIL)  # b on its node beside a then c


def test_a_damaged_plan_record_is_skipped_not_fatal(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", [("lab", 2, 30)], nights=3)
    store.db.write(lambda db: db.execute("UPDATE runs SET plan = '{not json' WHERE id = 'r002'"))
    result = estimate(learn(store, "inspect"), [[("lab", 2)]], set())
    assert result.sites[0].seconds == pytest.approx(30) and result.runs == 2


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_plan_output_states_the_estimate_per_site_and_in_total(home, tmp_path, monkeypatch):
    inventory = write_inventory(tmp_path / "inv", {"lab.yml": SITE.format(code="lab", size=4)})
    plan = prepare(RunRequest(inventory, "patch", Selector(), change_id="CHG-1")).plan
    assert "no past patch runs to estimate from" in plan_text(plan)  # nothing invented before any history
    nightly(open_store(), monkeypatch, "patch", [("lab", 1, 8), ("lab", 4, 14)], nights=3)
    plan = prepare(RunRequest(inventory, "patch", Selector(), change_id="CHG-1")).plan
    # canary of 1 (8 s), then 8 hosts in batches of 4 (14 s each), then the run's tail
    doc = plan_json(plan)["estimate"]
    assert doc["seconds"] == pytest.approx(8 + 14 + 14 + TAIL)
    assert doc["sites"][0]["batches"] == 3 and doc["sites"][0]["runs"] == 3
    assert "estimate: about 37s in total, from the 3 most recent past patch run(s)" in plan_text(plan)
    assert "| lab | 3 | 9 | about 36s |" in plan_markdown(plan)
    assert json.loads(json.dumps(plan_json(plan))) == plan_json(plan)  # strict JSON, the same answer twice


def test_a_run_records_the_estimate_its_plan_showed_and_its_batches_teach_the_next(home, tmp_path):
    inventory = write_inventory(tmp_path / "inv", {"lab.yml": SITE.format(code="lab", size=4)})
    prepared = prepare(RunRequest(inventory, "inspect", Selector(), change_id="CHG-1"))
    shown = plan_json(prepared.plan)["estimate"]
    execute(prepared, engine=ScriptedEngine())
    assert open_store().runs(1)[0].plan["estimate"] == shown == plan_estimate(prepared.plan).as_dict()
    after = plan_estimate(prepare(RunRequest(inventory, "inspect", Selector())).plan)
    assert after.runs == 1 and after.sites[0].sizes == (9,)  # the scripted run's one batch of 9 hosts


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_progress_time_left_shrinks_as_batches_finish(store, monkeypatch, tmp_path):
    nightly(store, monkeypatch, "patch", [("lab", 1, 8), ("lab", 4, 14)], nights=3)
    inventory = write_inventory(tmp_path / "inv", {"lab.yml": SITE.format(code="lab", size=4)})
    waves = prepare(RunRequest(inventory, "patch", Selector(), change_id="CHG-1")).plan.waves
    ticks = FakeClock()
    out = io.StringIO()
    progress = Progress(out, clock=RunClock(learn(store, "patch"), waves, (), set(), clock=ticks))
    stats = {"event": "playbook_on_stats", "event_data": {}}
    lefts = []
    for index, (wave, seconds) in enumerate([(waves[0], 8), (waves[1], 14), (waves[1], 14)]):
        number = 1 if index < 2 else 2
        progress.batch(wave.name, number, len(wave.batches), "lab", len(wave.batches[number - 1].hosts))
        ticks.now += seconds / 2
        lefts.append(progress.clock.left())
        ticks.now += seconds / 2
        progress(stats)
        lefts.append(progress.clock.left())
    assert lefts == sorted(lefts, reverse=True) and lefts[0] == pytest.approx(37 - 4)
    assert lefts[-1] == pytest.approx(TAIL)
    lines = out.getvalue().splitlines()
    assert lines[0] == "== canary, batch 1/1: 1 host(s) at lab; about 37s left (0s so far)"
    assert lines[1] == "   batch done; about 29s left (8s so far)"
    assert lines[-1] == "   batch done; about 1s left (36s so far)"


def test_progress_without_history_shows_no_time_left(store, tmp_path):
    inventory = write_inventory(tmp_path / "inv", {"lab.yml": SITE.format(code="lab", size=4)})
    waves = prepare(RunRequest(inventory, "patch", Selector(), change_id="CHG-1")).plan.waves
    out = io.StringIO()
    progress = Progress(out, clock=RunClock(learn(store, "patch"), waves, (), set()))
    progress.batch(waves[0].name, 1, 1, "lab", 1)
    progress({"event": "playbook_on_stats", "event_data": {}})
    assert out.getvalue() == "== canary, batch 1/1: 1 host(s) at lab\n"


def test_the_run_loop_says_the_estimate_and_the_time_left_from_the_runs_before(home, tmp_path):
    inventory = write_inventory(tmp_path / "inv", {"lab.yml": SITE.format(code="lab", size=4)})
    said = []
    for _ in range(2):
        out = io.StringIO()
        execute(prepare(RunRequest(inventory, "patch", Selector(), change_id="CHG-1")), Progress(out), ScriptedEngine())
        said.append(out.getvalue())
    assert "estimate: no past patch runs to estimate from" in said[0] and " left (" not in said[0]
    # the scripted engine takes no time: seconds round to 0 unless the machine is slow
    assert re.search(r"estimate: about \d+s in total, from the 1 most recent past patch run\(s\) \(few", said[1])
    batches = [line for line in said[1].splitlines() if line.startswith("== ")]
    assert len(batches) == 3 and all(re.search(r"; about \d+s left \(\d+s so far\)$", line) for line in batches)


def test_the_total_says_the_fewest_runs_any_site_rests_on(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", [("a", 2, 30)], nights=5)
    nightly(store, monkeypatch, "inspect", [("a", 2, 30), ("b", 2, 20)], nights=2, first=5)
    result = estimate(learn(store, "inspect"), [[("a", 2), ("b", 2)]], set())
    assert [s.runs for s in result.sites] == [5, 2] and result.seconds == pytest.approx(50 + TAIL)
    assert result.summary().endswith("from the 2 most recent past inspect run(s) (few: a rough figure)")


def convex(hosts: int) -> float:
    """A controller whose hosts slow each other: the wait for the first host, 2 s a host, 1 s a host for each
    host running at once with it."""
    return LEAD + 2 * hosts + hosts * hosts


CONVEX = [("lab", n, convex(n)) for n in (2, 3, 4)]  # 11, 18, 27 s


def test_a_history_that_bends_is_estimated_bending_not_as_a_line(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", CONVEX, nights=3)
    model = learn(store, "inspect")
    seen, bigger = (estimate(model, [[("lab", n)]], set()).sites[0] for n in (4, 6))
    assert seen.seconds == pytest.approx(27) and not seen.beyond
    # the line through 2, 3 and 4 hosts starts at -5.3 s, below the 3 s wait for the first host: it bends
    assert bigger.seconds == pytest.approx(convex(6))
    note = bigger.note("inspect")
    assert "batches of 2, 3, 4 host(s); a batch's hosts slow each other" in note
    assert note.endswith("extrapolates past the largest batch seen (4 host(s) at once)")
    assert bigger.as_dict("inspect")["model"] == "convex" and bigger.as_dict("inspect")["extrapolates"] is True


def test_a_straight_history_stays_a_line(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", [("lab", n, 6 + 2 * n) for n in (2, 3, 4)], nights=3)
    site = estimate(learn(store, "inspect"), [[("lab", 20)]], set()).sites[0]
    assert site.seconds == pytest.approx(6 + 2 * 20) and site.shape == "linear"
    assert "slow each other" not in site.note("inspect") and "held" not in site.note("inspect")
    assert "extrapolates past the largest batch seen (4 host(s) at once)" in site.note("inspect")


def test_two_sizes_that_bend_below_the_wait_for_the_first_host_are_a_curve(store, monkeypatch):
    # the line through 2 hosts in 10 s and 4 in 24 s starts at -4 s, below the 3 s every batch waits
    # for its first host: the curve from those 3 s through both points (1.75 s a host, 0.875 s a pair)
    nightly(store, monkeypatch, "inspect", [("lab", 2, 10), ("lab", 4, 24)], nights=2)
    model = learn(store, "inspect")
    assert [estimate(model, [[("lab", n)]], set()).sites[0].seconds for n in (2, 4)] == pytest.approx([10, 24])
    assert estimate(model, [[("lab", 6)]], set()).sites[0].seconds == pytest.approx(3 + 6 * (1.75 + 0.875 * 6))


def test_far_past_the_history_the_slow_down_is_held_not_squared(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", CONVEX, nights=3)
    site = estimate(learn(store, "inspect"), [[("lab", 20)]], set()).sites[0]
    # the curve is followed to twice the 4 hosts seen at once, then each host costs what it did at 8
    assert site.seconds == pytest.approx(LEAD + 20 * (2 + 1 * 8))  # the square would say 443 s
    assert site.note("inspect").endswith("(4 host(s) at once), the slow-down held at 8 at once")


def test_the_model_counts_hosts_at_once_as_forks_allow(store, monkeypatch):
    nightly(store, monkeypatch, "inspect", CONVEX, nights=3)
    model = learn(store, "inspect")
    # forks 3: six hosts, three at a time; each host is slowed by the two beside it
    site = estimate(model, [[("lab", 6)]], set(), forks=3).sites[0]
    assert site.seconds == pytest.approx(LEAD + 6 * (2 + 1 * 3)) and not site.beyond


def test_past_runs_with_few_forks_teach_nothing_about_more_hosts_at_once(store, monkeypatch):
    # the past runs had forks 2: their batches of 2, 3 and 4 hosts all ran 2 at once
    nightly(store, monkeypatch, "inspect", [("lab", n, 10 + 4 * n) for n in (2, 3, 4)], nights=3, forks=2)
    model = learn(store, "inspect")
    assert estimate(model, [[("lab", 6)]], set(), forks=2).sites[0].beyond is False
    site = estimate(model, [[("lab", 6)]], set()).sites[0]  # the default forks: six at once
    assert site.beyond and "largest batch seen (2 host(s) at once)" in site.note("inspect")


def test_the_progress_clock_uses_the_same_bending_model(store, monkeypatch, tmp_path):
    nightly(store, monkeypatch, "patch", CONVEX, nights=3)
    inventory = write_inventory(tmp_path / "inv", {"lab.yml": SITE.format(code="lab", size=4)})
    waves = prepare(RunRequest(inventory, "patch", Selector(), change_id="CHG-1")).plan.waves
    clock = RunClock(learn(store, "patch"), waves, (), set(), clock=FakeClock())
    # canary of 1 host, then batches of 4 and 4 (a line through the history says less)
    assert clock.estimate.seconds == clock.left() == pytest.approx(convex(1) + 2 * convex(4) + TAIL)


def test_the_plan_and_the_progress_count_the_run_s_forks(home, tmp_path, monkeypatch):
    nightly(open_store(), monkeypatch, "inspect", [("lab", n, convex(n)) for n in (3, 6, 9)], nights=3)
    inventory = write_inventory(tmp_path / "inv", {"lab.yml": SITE.format(code="lab", size=4)})
    wide, narrow = (prepare(RunRequest(inventory, "inspect", Selector(), forks=f)) for f in (25, 3))
    # inspect is one batch of the site's 9 hosts: all 9 at once, or 3 at a time with --forks 3
    assert plan_json(wide.plan)["estimate"]["seconds"] == pytest.approx(convex(9) + TAIL)
    assert plan_json(narrow.plan)["estimate"]["seconds"] == pytest.approx(LEAD + 9 * (2 + 3) + TAIL)
    progress = Progress(io.StringIO())
    progress.expect(open_store(), "inspect", narrow.plan.waves, (), narrow.plan.inventory, forks=3)
    assert progress.clock is not None and progress.clock.left() == pytest.approx(LEAD + 9 * (2 + 3) + TAIL)


def test_a_fit_never_answers_a_negative_part():
    from ccops.runner.curve import nonnegative_fit

    # times that fall as hosts are added (noise): no negative cost per host, the mean as the fixed part
    assert nonnegative_fit([(1.0, 1.0), (1.0, 2.0), (1.0, 3.0)], [5.0, 3.0, 1.0]) == pytest.approx((3.0, 0.0))
    # two columns that say the same (every batch capped at the same forks): one of them carries it
    assert nonnegative_fit([(2.0, 4.0), (4.0, 8.0)], [6.0, 12.0]) == pytest.approx((3.0, 0.0))
    assert nonnegative_fit([], []) == ()


def test_hosts_a_select_pass_found_up_to_date_are_no_batch_time(store, monkeypatch):
    """patch's select pass records the hosts it settles in its own wave: their seconds are the pass's, and
    a planned batch none of whose hosts ran is no sample (else every quiet night would shrink the estimate)."""
    for night in range(3):
        run_id, start = f"s{night:03d}", T0 + timedelta(days=night)
        settled, ran = [f"lab-{run_id}-a{i}" for i in range(4)], [f"lab-{run_id}-b{i}" for i in range(4)]
        waves = [{"name": "all", "batches": [{"site": "lab", "hosts": settled}, {"site": "lab", "hosts": ran}]}]
        monkeypatch.setattr(records, "now", lambda start=start: _iso(start))
        plan = {"verb": "patch", "waves": waves}
        store.start_run(run_id, "patch", operator="test", change_id="CHG-1", git_commit=None, inventory="inv",
                        inventory_sha256="0" * 64, selectors={}, request={}, plan=plan)  # fmt: skip
        quick = (_iso(start + timedelta(seconds=1)), _iso(start + timedelta(seconds=2)))
        store.record_hosts(run_id, [{"host": h, "outcome": "ok", "wave": "select", "started": quick[0],
                                     "ended": quick[1]} for h in settled])  # fmt: skip
        first, end = _iso(start + timedelta(seconds=2 + LEAD)), _iso(start + timedelta(seconds=22))
        store.record_hosts(run_id, [{"host": h, "outcome": "ok", "wave": "all", "started": first, "ended": end}
                                    for h in ran])  # fmt: skip
        monkeypatch.setattr(records, "now", lambda start=start: _iso(start + timedelta(seconds=22 + TAIL)))
        store.finish_run(run_id, "succeeded", 0)
    # the one batch that ran took the night's 22 s from the run's start (the pass's 2 s came before it)
    assert estimate(learn(store, "patch"), [[("lab", 4)]], set()).sites[0].seconds == pytest.approx(22)
