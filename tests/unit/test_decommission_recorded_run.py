"""Each decommission batch is told, from the records, the final backups its hosts' runs recorded
(Verb.batch_vars, ccops.decommission.recorded), so a resume verifies what the record says and
never the host's own mark: driven through the run loop with the scripted engine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ccops.errors import EXIT_OK
from ccops.run import execute, prepare, resume_run
from ccops.runner.engine import Batch, Execution
from tests.scripted import ScriptedEngine
from tests.unit.test_decommission_run import _request, home, inventory  # noqa: F401 (fixtures)

BACKUP = {"id": "r1-tst-t01-final-010203", "sha256": "a" * 64, "machine_id": "6f1c2a9e-3b7d-4e15-9a42-0c8d5e7b1f30"}


@dataclass
class LostAfterTheBackup(ScriptedEngine):
    """tst-t01 reports its verified final backup ("decommissioning"), then fails (lost later)."""

    def run(self, batch: Batch, execution: Execution) -> str:
        if batch.hosts != ["tst-t01"]:
            return super().run(batch, execution)
        self.batches.append(batch)
        collector, play = execution.collector, str(uuid.uuid4())
        data = {"host": "tst-t01", "play_uuid": play, "task": "Report the verified final backup"}
        report = {"outcome": "decommissioning", "reason": "", "final_backup": BACKUP}
        collector({"event": "playbook_on_play_start", "event_data": {"uuid": play}})
        collector({"event": "runner_on_ok", "event_data": {**data, "res": {"ansible_facts": {"ccops_report": report}}}})
        collector({"event": "runner_on_failed", "event_data": {**data, "task": "Sanitise", "res": {"msg": "lost"}}})
        collector({"event": "playbook_on_stats", "event_data": {"ok": {}, "failures": {"tst-t01": 1}, "dark": {}}})
        return "failed"


def test_a_resumed_batch_gets_the_final_backup_its_host_reported_before(home, inventory):  # noqa: F811
    first = execute(prepare(_request(inventory)), engine=LostAfterTheBackup())
    assert first.exit_code != EXIT_OK
    engine = ScriptedEngine()
    resume_run(first.run_id, engine=engine)
    given = {name: batch.extravars["decommission_recorded_backups"] for batch in engine.batches for name in batch.hosts}
    assert given["tst-t01"]["tst-t01"][BACKUP["id"]]["sha256"] == BACKUP["sha256"]
    assert given["tst-t01"]["tst-t01"][BACKUP["id"]]["machine_id"] == BACKUP["machine_id"]
    assert all(given[h] == {} for h in given if h != "tst-t01")  # a batch is told only of its own hosts


def test_hosts_that_never_reported_a_final_backup_get_none(home, inventory):  # noqa: F811
    engine = ScriptedEngine()
    execute(prepare(_request(inventory)), engine=engine)
    assert engine.batches and all(b.extravars["decommission_recorded_backups"] == {} for b in engine.batches)
