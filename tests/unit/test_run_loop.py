"""The run loop driven by a scripted engine: what it runs, when it stops, what it records.

Fast and deterministic; the lab tests prove the same loop with the real engine.
"""

from __future__ import annotations

import json
import os
import signal

import pytest

from ccops.errors import EXIT_HALTED, EXIT_HOSTS_FAILED, EXIT_INTERRUPTED, EXIT_OK, RefusedError
from ccops.inventory.select import Selector
from ccops.run import RunRequest, execute, open_store, prepare, resume_run
from tests.conftest import write_inventory
from tests.scripted import ScriptedEngine

SITE = """\
site:
  code: tst
  city: testcity
  timezone: UTC
  maintenance_windows: [{start: "00:00", end: "00:00"}]
  rollout: {canary: 1, waves: ["50%", "100%"], batch_size: 2, max_fail_percentage: 0}
connections:
  linux: {type: ssh, user: ccops, become: true}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: tst-t[01:05]
    addresses: 127.0.0.9
"""


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def inventory(tmp_path):
    return write_inventory(tmp_path / "inv", {"tst.yml": SITE})


def _patch(inventory, **kwargs) -> RunRequest:
    return RunRequest(inventory, "patch", Selector(), change_id="CHG-1", **kwargs)


def test_the_run_executes_the_prepared_plan_batch_by_batch(home, inventory):
    prepared = prepare(_patch(inventory))
    engine = ScriptedEngine()
    result = execute(prepared, engine=engine)
    assert result.exit_code == EXIT_OK
    planned = [[h.name for h in b.hosts] for w in prepared.plan.waves for b in w.batches]
    assert [b.hosts for b in engine.batches] == planned
    assert all(b.playbook == "playbooks/patch.yml" and b.extravars["ccops_action"] == "patch" for b in engine.batches)
    record = open_store().run(result.run_id)
    assert record.inventory == str(inventory)  # absolute, whatever folder ccops ran from
    # the record keeps the very plan that was approved, and the inventory files it came from
    assert record.plan == {**prepared.plan_document(), "inventory_files": prepared.inventory_files}
    assert {h["host"]: h["outcome"] for h in record.hosts} == {f"tst-t0{i}": "ok" for i in range(1, 6)}


def test_a_failed_canary_halts_before_the_next_batch_and_resume_finishes(home, inventory):
    engine = ScriptedEngine({"tst-t01": "failed"})
    result = execute(prepare(_patch(inventory)), engine=engine)
    assert result.exit_code == EXIT_HALTED
    assert [b.hosts for b in engine.batches] == [["tst-t01"]]
    engine.script = {}
    resumed = resume_run(result.run_id, engine=engine)
    assert resumed.exit_code == EXIT_OK
    assert sorted(h for b in engine.batches[1:] for h in b.hosts) == [f"tst-t0{i}" for i in range(1, 6)]


def test_refused_seats_are_not_failures_unreachable_ones_are(home, inventory):
    engine = ScriptedEngine({"tst-t02": "refused", "tst-t05": "unreachable"})
    prepared = prepare(RunRequest(inventory, "inspect", Selector()))
    result = execute(prepared, engine=engine)
    assert result.exit_code == EXIT_HOSTS_FAILED
    assert {o.host: o.outcome for o in result.hosts}["tst-t02"] == "refused"
    assert {o.host: o.outcome for o in result.hosts}["tst-t05"] == "unreachable"


def test_an_inventory_edited_mid_run_stops_it_before_the_next_batch(home, inventory):
    site = inventory / "sites" / "tst.yml"

    def edit(batch):
        if batch.ident.startswith("w1-"):
            site.write_text(site.read_text().replace("max_fail_percentage: 0", "max_fail_percentage: 50"))

    engine = ScriptedEngine(during=edit)
    result = execute(prepare(_patch(inventory)), engine=engine)
    assert result.exit_code == EXIT_HALTED
    assert len(engine.batches) == 1  # the canary ran; nothing after the edit
    assert "sites/tst.yml changed" in result.message and "--keep-plan" in result.message
    with pytest.raises(RefusedError, match=r"sites/tst\.yml changed"):
        resume_run(result.run_id, engine=engine)
    resumed = resume_run(result.run_id, engine=engine, keep_plan=True)
    assert resumed.exit_code == EXIT_OK
    # the approved plan went on: every batch read its part of the snapshot made when it was approved
    approved = json.loads((engine.batches[0].inventory.parent / "inventory.ccops-snapshot.json").read_text())
    assert approved["groups"]["site_tst"]["vars"]["ccops_site"] == "tst"
    for batch in engine.batches:
        seen = json.loads(batch.inventory.read_text())
        assert seen["hosts"] == {name: approved["hosts"][name] for name in batch.hosts}
        assert seen["groups"]["site_tst"] == approved["groups"]["site_tst"]  # max_fail_percentage: 0, as approved


def test_every_batch_reads_the_snapshot_not_the_site_files(home, inventory):
    engine = ScriptedEngine()
    result = execute(prepare(RunRequest(inventory, "inspect", Selector())), engine=engine)
    snapshot = engine.batches[0].inventory
    assert snapshot.name.endswith(".ccops-snapshot.json") and result.run_id in str(snapshot)
    assert oct(snapshot.stat().st_mode & 0o777) == "0o600"
    assert oct((snapshot.parent / "inventory.ccops-snapshot.json").stat().st_mode & 0o777) == "0o600"


def test_a_batch_reads_only_its_own_hosts(home, inventory):
    """A batch's Ansible parses its own hosts, not the run's: a run's controller cost is linear in its hosts."""
    engine = ScriptedEngine()
    prepared = prepare(_patch(inventory))
    execute(prepared, engine=engine)
    assert len(engine.batches) > 2
    for batch in engine.batches:
        seen = json.loads(batch.inventory.read_text())
        assert sorted(seen["hosts"]) == sorted(batch.hosts)
        assert set(seen["groups"]) == {g for body in seen["hosts"].values() for g in body["groups"]}


def test_an_interrupt_mid_batch_ends_the_run_interrupted(home, inventory):
    engine = ScriptedEngine(during=lambda batch: os.kill(os.getpid(), signal.SIGINT))
    result = execute(prepare(_patch(inventory)), engine=engine)
    assert result.exit_code == EXIT_INTERRUPTED
    assert len(engine.batches) == 1
    assert open_store().run(result.run_id).status == "interrupted"


def test_a_new_verb_is_a_registry_entry_a_playbook_and_a_role_action(home, inventory, tmp_path, monkeypatch):
    """Adding a verb touches no generic file: plan and run loop take it from the registry."""
    from ccops.plan.render import plan_json
    from ccops.verbs import VERBS, Step, Verb

    project = tmp_path / "project"
    (project / "playbooks").mkdir(parents=True)
    (project / "playbooks" / "greet.yml").write_text("- name: Greet\n  hosts: all\n  roles: [greet]\n")
    tasks = project / "roles" / "greet" / "tasks"
    tasks.mkdir(parents=True)
    dispatch = "{{ ccops_action }}_{{ ccops_os_family }}.yml"
    (tasks / "main.yml").write_text(f'- ansible.builtin.include_tasks: "{dispatch}"\n')
    (tasks / "hello_debian.yml").write_text("- ansible.builtin.debug: {msg: hello}\n")
    monkeypatch.setenv("CCOPS_PROJECT", str(project))
    monkeypatch.setitem(
        VERBS,
        "greet",
        Verb("greet", "greet.yml", "hello", ("active",), True, "say hello", steps=(Step("greet", "hello"),)),
    )

    prepared = prepare(RunRequest(inventory, "greet", Selector(limit=("tst-t0[12]",)), change_id="CHG-2"))
    planned = plan_json(prepared.plan)
    files = {t["file"] for a in planned["actions"] for t in a["tasks"]}
    assert files == {"roles/greet/tasks/hello_debian.yml"} and all((project / f).is_file() for f in files)
    engine = ScriptedEngine()
    result = execute(prepared, engine=engine)
    assert result.exit_code == EXIT_OK and result.verb == "greet"
    assert [(b.playbook, b.extravars["ccops_action"]) for b in engine.batches] == [("playbooks/greet.yml", "hello")] * 2


def test_a_host_that_froze_before_a_task_is_reported_as_not_answering():
    from ccops.runner.events import EventCollector

    collector = EventCollector()
    collector({"event": "playbook_on_play_start", "event_data": {"uuid": "p1"}})
    collector(
        {
            "event": "runner_on_failed",
            "event_data": {
                "host": "h1",
                "play_uuid": "p1",
                "task": "Install updates",
                "res": {"msg": "Timeout (12s) waiting for privilege escalation prompt: "},
            },
        }
    )
    collector(
        {
            "event": "runner_on_unreachable",
            "event_data": {
                "host": "h2",
                "play_uuid": "p1",
                "task": "Install updates",
                "res": {"msg": "Timeout (12s) waiting for privilege escalation prompt: "},
            },
        }
    )
    collector({"event": "playbook_on_stats", "event_data": {"failures": {"h1": 1}, "dark": {"h2": 1}}})
    for outcome in collector.outcomes(["h1", "h2"]):
        assert outcome.outcome == "unreachable"
        assert "stopped answering" in outcome.message and "sudo password" in outcome.message


def test_a_verb_command_is_built_from_its_registry_entry():
    """Shared options once, the changing-verb options, and the verb's own settings as extra variables."""
    from ccops.cli.verb_cmd import verb_command
    from ccops.verbs import Step, Verb, VerbOption

    greet = Verb(
        "greet",
        "greet.yml",
        "hello",
        ("active",),
        True,
        "say hello",
        steps=(Step("greet", "hello"),),
        options=(VerbOption("--loud", "greet_loud", "How loud.", ("yes", "no"), "no"),),
    )
    names = {p.name for p in verb_command(greet).params}
    assert {"inventory", "sites", "roles", "os_variants", "lines", "limit", "change_id", "forks", "output"} <= names
    assert {"batch_size", "emergency", "yes", "greet_loud"} <= names
    read_only = Verb("look", "look.yml", "look", ("active",), False, "look", steps=(Step("look", "look"),))
    assert not {"batch_size", "emergency", "yes"} & {p.name for p in verb_command(read_only).params}
    change_id = next(p for p in verb_command(greet).params if p.name == "change_id")
    assert change_id.required


after_run_calls: list[tuple[str, str]] = []


def note_after_run(prepared, result, progress=None) -> None:
    """A verb's after_run hook for the test below: what it was called with."""
    after_run_calls.append((result.run_id, result.status))


def test_a_resumed_run_ends_with_its_verbs_after_run_hook_as_a_whole_run_does(home, inventory, monkeypatch):
    """Quarantine's automatic evaluation rides on after_run: a run halted and resumed must not skip it."""
    from dataclasses import replace

    from ccops.verbs import VERBS

    monkeypatch.setitem(VERBS, "patch", replace(VERBS["patch"], after_run=f"{__name__}:note_after_run"))
    after_run_calls.clear()
    engine = ScriptedEngine({"tst-t01": "failed"})
    halted = execute(prepare(_patch(inventory)), engine=engine)
    engine.script = {}
    resumed = resume_run(halted.run_id, engine=engine)
    assert resumed.exit_code == EXIT_OK
    assert after_run_calls == [(halted.run_id, halted.status), (halted.run_id, resumed.status)]
