"""A scripted engine: answers each batch with the events a real Ansible run would send.

It drives ccops's run loop (waves, gates, refusals, interrupts, resume, records) in
unit tests without Ansible; the lab tests prove the real engine. Each host's scripted
outcome is one of ok, failed, unreachable, refused (a pre-check's report), changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from ccops.runner.engine import Batch, Execution


@dataclass
class ScriptedEngine:
    script: dict[str, str] = field(default_factory=dict)  # host -> outcome; default ok
    batches: list[Batch] = field(default_factory=list)  # what was asked to run, in order
    during: Callable[[Batch], None] | None = None  # called mid-batch (edit the inventory, send a signal)
    reports: dict[str, dict] = field(default_factory=dict)  # host -> the ccops_report an ok host sends
    # a verb's select pass (ccops.run.preselect, idents select-N), kept apart from the batches: each host
    # answers ok without a report (it goes through the waves) unless named here: its report, or an
    # outcome word (failed, unreachable)
    select: dict[str, dict | str] = field(default_factory=dict)
    selects: list[Batch] = field(default_factory=list)  # the select passes asked, in order

    def run(self, batch: Batch, execution: Execution) -> str:
        collector = execution.collector
        selecting = batch.ident.startswith("select-")
        (self.selects if selecting else self.batches).append(batch)
        assert batch.inventory.is_file(), "every batch reads the run's inventory snapshot"
        play = str(uuid.uuid4())
        collector({"event": "playbook_on_play_start", "event_data": {"uuid": play}})
        stats: dict[str, dict[str, int]] = {"ok": {}, "changed": {}, "failures": {}, "dark": {}}
        for host in batch.hosts:
            answer = self.select.get(host) if selecting else None
            outcome = (answer if isinstance(answer, str) else "ok") if selecting else self.script.get(host, "ok")
            data = {"host": host, "play_uuid": play, "task": "scripted task"}
            if outcome == "unreachable":
                collector({"event": "runner_on_unreachable", "event_data": {**data, "res": {"msg": "no route"}}})
                stats["dark"][host] = 1
            elif outcome == "failed":
                collector({"event": "runner_on_failed", "event_data": {**data, "res": {"msg": "scripted failure"}}})
                stats["failures"][host] = 1
            else:
                report = {"outcome": "refused", "reason": "seat busy"} if outcome == "refused" else {"outcome": "ok"}
                report = self.reports.get(host, report) if not selecting else answer
                facts = {"ansible_facts": {"ccops_report": report}} if report is not None else {}
                collector({"event": "runner_on_ok", "event_data": {**data, "res": facts}})
                stats["ok"][host] = 1
                if outcome == "changed":
                    stats["changed"][host] = 1
        if self.during is not None and not selecting:
            self.during(batch)
        collector({"event": "playbook_on_stats", "event_data": stats})
        return "failed" if stats["failures"] or stats["dark"] else "successful"


POINT_HOST = "tst-t01"  # the distribution point of tests.conftest.site_text() with POINT_LINE added
POINT_LINE = f"  distribution_point: {{host: {POINT_HOST}, path: /srv/ccops-dist, url: 'http://10.9.0.1:8080'}}\n"


class PointEngine(ScriptedEngine):
    """The point host answers seed and stage runs as its role does when all went well (or fails the stage)."""

    def __init__(self, fail_stage: bool = False) -> None:
        super().__init__()
        self.fail_stage = fail_stage
        self.seeded: list[str] = []  # the archive each seed run was given, as the run saw it

    def run(self, batch, execution):  # type: ignore[no-untyped-def]
        seeding = batch.playbook.endswith("content_snapshot.yml")
        if seeding:
            self.seeded.append(batch.extravars["content_seed_archive"])
        self.reports = {POINT_HOST: {"outcome": "seeded" if seeding else "staged"}}
        self.script = {POINT_HOST: "failed"} if self.fail_stage and not seeding else {}
        return super().run(batch, execution)
