"""The real ccops CLI, with hosts simulated at the runner's event seam.

``python -m tests.cli.scripted_cli ARGS...`` runs ``ccops ARGS...`` (argument parsing, errors,
exit codes, records, outputs) with the run loop's engine replaced by the scripted one: every batch
is answered with the events Ansible would send, each host's ``ccops_report`` taken from the JSON
file ``CCOPS_TEST_HOSTS`` names: ``{"outcomes": {host: outcome}, "reports": {host: report}}``.
Python's JSON reader turns ``1e999`` into infinity, as ansible-runner's does.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.scripted import ScriptedEngine


def main() -> None:
    script = json.loads(Path(os.environ["CCOPS_TEST_HOSTS"]).read_text())
    engine = ScriptedEngine(script=script.get("outcomes", {}), reports=script.get("reports", {}))
    import importlib

    # by its module name: the package ccops.run exports a function called execute as well
    for name in ("ccops.run.execute", "ccops.run.resume"):
        importlib.import_module(name).default_engine = lambda inventory: engine
    from ccops.cli.main import main as ccops_main

    sys.argv[0] = "ccops"  # usage lines name the command a user types
    ccops_main()


if __name__ == "__main__":
    main()
