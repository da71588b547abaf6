"""patch's select pass (ccops.run.preselect): one play before any wave; up-to-date hosts run no batch.

Driven by the scripted engine: its select passes answer as roles/patch/tasks/preselect.yml does (an
up_to_date report, or nothing and the host goes on), and its batches as the full patch does.
"""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime

import pytest

from ccops.errors import EXIT_INTERRUPTED, EXIT_OK
from ccops.inventory.select import Selector
from ccops.plan.maintenance import DAYS
from ccops.plan.render import plan_json, plan_markdown, plan_text
from ccops.run import RunRequest, execute, open_store, prepare, resume_run
from tests.conftest import write_inventory
from tests.scripted import ScriptedEngine
from tests.unit.test_run_loop import SITE as RUN_LOOP_SITE

SITE = RUN_LOOP_SITE.replace("max_fail_percentage: 0", "max_fail_percentage: 50")
HOSTS = [f"tst-t0{i}" for i in range(1, 6)]
UP_TO_DATE = {"outcome": "up_to_date", "reason": "nothing to install: at approved snapshot s1"}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def inventory(tmp_path):
    return write_inventory(tmp_path / "inv", {"tst.yml": SITE})


def _patch(inventory) -> RunRequest:
    return RunRequest(inventory, "patch", Selector(), change_id="CHG-1")


def _batched(engine: ScriptedEngine) -> list[str]:
    return sorted(h for b in engine.batches for h in b.hosts)


def _recorded(run_id: str) -> dict[str, dict]:
    return {h["host"]: h for h in open_store().run(run_id).hosts}


def test_up_to_date_hosts_are_recorded_so_and_put_into_no_batch(home, inventory):
    engine = ScriptedEngine(select={"tst-t01": UP_TO_DATE, "tst-t04": UP_TO_DATE})
    result = execute(prepare(_patch(inventory)), engine=engine)
    assert result.exit_code == EXIT_OK
    # one select play over every host, before any wave, running the role's select-only action
    assert [s.hosts for s in engine.selects] == [HOSTS]
    assert engine.selects[0].extravars["ccops_action"] == "preselect"
    assert engine.selects[0].playbook == "playbooks/patch.yml"
    # the waves run the patch on the others only
    assert _batched(engine) == ["tst-t02", "tst-t03", "tst-t05"]
    assert all(b.extravars["ccops_action"] == "patch" for b in engine.batches)
    recorded = _recorded(result.run_id)
    assert set(recorded) == set(HOSTS)
    for host in ("tst-t01", "tst-t04"):
        assert recorded[host]["outcome"] == "ok" and recorded[host]["message"] == "up to date"
        assert recorded[host]["wave"] == "select"  # decided by the pass, in no batch (capacity skips it)
        assert recorded[host]["report"] == UP_TO_DATE  # the host's reason, kept
    assert result.reports["tst-t01"]["outcome"] == "up_to_date"
    assert result.reports["tst-t02"] == {"outcome": "ok"}  # its batch's report, not the select pass's


def test_a_night_with_nothing_to_do_runs_no_batch_at_all(home, inventory):
    engine = ScriptedEngine(select=dict.fromkeys(HOSTS, UP_TO_DATE))
    result = execute(prepare(_patch(inventory)), engine=engine)
    assert result.exit_code == EXIT_OK and result.status == "succeeded"
    assert len(engine.selects) == 1 and engine.batches == []
    assert {o.host: o.outcome for o in result.hosts} == dict.fromkeys(HOSTS, "ok")
    assert {r["outcome"] for r in result.reports.values()} == {"up_to_date"}


def test_a_failed_unreachable_damaged_or_other_answer_goes_through_the_waves(home, inventory):
    engine = ScriptedEngine(
        select={
            "tst-t01": "failed",
            "tst-t02": "unreachable",
            "tst-t03": {"outcome": "up_to_date", "reason": ["not", "text"]},  # damaged: never a skip
            "tst-t04": {"outcome": "patched", "reason": ""},  # not the answer that skips
            "tst-t05": UP_TO_DATE,
        }
    )
    result = execute(prepare(_patch(inventory)), engine=engine)
    assert result.exit_code == EXIT_OK
    # the full patch (pre-checks, verified backup, ...) runs on each of them, as without the pass
    assert _batched(engine) == ["tst-t01", "tst-t02", "tst-t03", "tst-t04"]
    recorded = _recorded(result.run_id)
    # what their batch found is what stays recorded (the damaged answer is replaced by it)
    assert {h: recorded[h]["outcome"] for h in HOSTS} == dict.fromkeys(HOSTS, "ok")
    assert recorded["tst-t03"]["report"] == {"outcome": "ok"}
    assert recorded["tst-t05"]["report"] == UP_TO_DATE


def test_a_damaged_answer_is_recorded_damaged_until_its_batch_runs(home, inventory):
    damaged = {"outcome": "up_to_date", "reason": {"a": 1}}

    def interrupt(batch):
        os.kill(os.getpid(), signal.SIGINT)

    engine = ScriptedEngine(select={"tst-t05": damaged}, during=interrupt)
    result = execute(prepare(_patch(inventory)), engine=engine)
    assert result.exit_code == EXIT_INTERRUPTED
    recorded = _recorded(result.run_id)
    assert recorded["tst-t05"]["outcome"] == "damaged" and recorded["tst-t05"]["wave"] == "select"
    assert "goes through the waves" in recorded["tst-t05"]["message"]
    assert "reason" in recorded["tst-t05"]["message"]  # the field that did not fit, named


def test_resume_after_the_select_pass_keeps_up_to_date_hosts_done(home, inventory):
    engine = ScriptedEngine(select={"tst-t02": UP_TO_DATE}, during=lambda batch: os.kill(os.getpid(), signal.SIGINT))
    result = execute(prepare(_patch(inventory)), engine=engine)
    assert result.exit_code == EXIT_INTERRUPTED
    assert _batched(engine) == ["tst-t01"]  # the canary, then Ctrl-C
    engine.during = None
    resumed = resume_run(result.run_id, engine=engine)
    assert resumed.exit_code == EXIT_OK
    # asked again: the hosts not yet done (the canary finished before Ctrl-C), never the up-to-date one
    assert engine.selects[1].hosts == ["tst-t03", "tst-t04", "tst-t05"]
    assert _batched(engine) == ["tst-t01", "tst-t03", "tst-t04", "tst-t05"]
    recorded = _recorded(result.run_id)
    assert recorded["tst-t02"]["report"] == UP_TO_DATE and recorded["tst-t02"]["outcome"] == "ok"


def test_a_host_found_up_to_date_on_resume_is_recorded_and_not_batched(home, inventory):
    engine = ScriptedEngine(during=lambda batch: os.kill(os.getpid(), signal.SIGINT))
    result = execute(prepare(_patch(inventory)), engine=engine)
    engine.during, engine.select = None, {"tst-t01": UP_TO_DATE, "tst-t05": UP_TO_DATE}
    resumed = resume_run(result.run_id, engine=engine)
    assert resumed.exit_code == EXIT_OK
    assert _batched(engine) == ["tst-t01", "tst-t02", "tst-t03", "tst-t04"]
    assert _recorded(result.run_id)["tst-t05"]["report"] == UP_TO_DATE


def test_hosts_at_a_site_whose_window_is_closed_are_not_asked(home, tmp_path):
    other_day = DAYS[(datetime.now(UTC).weekday() + 3) % 7]  # a whole day, but neither today nor tomorrow
    closed = SITE.replace(
        '[{start: "00:00", end: "00:00"}]', f'[{{start: "00:00", end: "00:00", days: [{other_day}]}}]'
    )
    inventory = write_inventory(tmp_path / "closed", {"tst.yml": closed})
    engine = ScriptedEngine(select=dict.fromkeys(HOSTS, UP_TO_DATE))
    result = execute(prepare(_patch(inventory)), engine=engine)
    assert engine.selects == [] and engine.batches == []  # nothing touched a host outside its window
    assert {o.outcome for o in result.hosts} == {"refused"}


def test_verbs_without_a_select_pass_run_none(home, inventory):
    engine = ScriptedEngine(select=dict.fromkeys(HOSTS, UP_TO_DATE))
    execute(prepare(RunRequest(inventory, "inspect", Selector())), engine=engine)
    assert engine.selects == [] and _batched(engine) == HOSTS


def test_the_plan_says_a_select_pass_runs_first(home, inventory):
    plan = prepare(_patch(inventory)).plan
    text, markdown, document = plan_text(plan), plan_markdown(plan), plan_json(plan)
    assert "select pass first (5 host(s))" in text and "recorded up_to_date and run no batch" in text
    assert "select pass first (5 host(s))" in markdown
    assert document["select_pass"]["action"] == "preselect"
    assert document["select_pass"]["hosts"] == HOSTS
    assert "no backup" in document["select_pass"]["says"]
    inspect = prepare(RunRequest(inventory, "inspect", Selector())).plan
    assert "select pass" not in plan_text(inspect) and "select_pass" not in plan_json(inspect)
    json.dumps(document, allow_nan=False)


WINDOWS = """\
  - name: seats
    role: agent_desktop
    os: win11
    business_line: voice
    connection: win
    hosts: tst-w[01:02]
    addresses: 10.9.5.1
    vars: {restore_card_type: uwf}
"""


def test_windows_seats_are_not_asked_and_go_through_the_waves(home, tmp_path):
    """Windows Update has no answer quicker than the patch's own search: a seat (protected by a write filter
    or not) runs its batch as before, whatever a select answer for it would say."""
    winrm = "  win: {type: winrm, user: svc-ccops, dns_domain: w.example}\n"
    site = SITE.replace("connections:\n", "connections:\n" + winrm)
    inventory = write_inventory(tmp_path / "mixed", {"tst.yml": site + WINDOWS})
    engine = ScriptedEngine(select=dict.fromkeys([*HOSTS, "tst-w01", "tst-w02"], UP_TO_DATE))
    prepared = prepare(_patch(inventory))
    result = execute(prepared, engine=engine)
    assert result.exit_code == EXIT_OK
    assert [s.hosts for s in engine.selects] == [HOSTS]
    assert _batched(engine) == ["tst-w01", "tst-w02"]
    assert plan_json(prepared.plan)["select_pass"]["hosts"] == HOSTS
