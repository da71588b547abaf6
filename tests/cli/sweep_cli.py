"""tests/cli/scripted_cli.py, with events no well-behaved host sends added to every batch.

``CCOPS_TEST_HOSTS`` may hold ``"extra"``: events sent before each batch's stats, in order, after the
scripted hosts' own (a host outside the inventory or spelt differently, a host's ``ccops_report``
sent a second time, the same event twice). Each takes the batch's play id, so it counts as the
batch's last play.
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ccops.runner.engine import Batch, Execution
from tests.scripted import ScriptedEngine


@dataclass
class ExtraEvents(ScriptedEngine):
    extra: list[dict[str, Any]] = field(default_factory=list)

    def run(self, batch: Batch, execution: Execution) -> str:
        real = execution.collector
        play: list[str] = []

        def collect(event: dict[str, Any]) -> bool:
            if event["event"] == "playbook_on_play_start":
                play.append(event["event_data"]["uuid"])
            if event["event"] == "playbook_on_stats":
                for extra in copy.deepcopy(self.extra):
                    extra.setdefault("event_data", {})["play_uuid"] = play[-1]
                    real(extra)
            return real(event)

        return super().run(batch, replace(execution, collector=collect))  # type: ignore[arg-type]


def main() -> None:
    script = json.loads(Path(os.environ["CCOPS_TEST_HOSTS"]).read_text())
    engine = ExtraEvents(reports=script.get("reports", {}), extra=script.get("extra", []))
    for name in ("ccops.run.execute", "ccops.run.resume"):
        importlib.import_module(name).default_engine = lambda inventory: engine
    from ccops.cli.main import main as ccops_main

    sys.argv[0] = "ccops"
    ccops_main()


if __name__ == "__main__":
    main()
