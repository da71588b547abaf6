"""``tests.cli.scripted_cli`` with the clock stopped: every run starts and every host ends in one second.

``python -m tests.cli.same_second_cli ARGS...``: the store's times and run ids read SECOND, the policy
evaluation's "now" is half a second into it, and the random hex ending each run id is the answers file's
``run_id_hex`` (two hex digits) then a counter, so a test decides which of two runs of that second has the
larger id. How two processes' runs meet in one second on a fast machine, made certain.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
from datetime import UTC, datetime, tzinfo
from pathlib import Path

SECOND = datetime(2026, 12, 7, 20, 53, 49, tzinfo=UTC)


class _Stopped(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _Stopped:
        return cls.fromtimestamp(SECOND.timestamp() + 0.5, tz)


def main() -> None:
    prefix = json.loads(Path(os.environ["CCOPS_TEST_HOSTS"]).read_text()).get("run_id_hex", "00")
    counter = itertools.count()
    secrets.token_hex = lambda nbytes=None: f"{prefix}{next(counter):04x}"  # type: ignore[assignment]
    import ccops.quarantine.current
    import ccops.run.identity
    import ccops.runner.events
    import ccops.store.records

    stopped = SECOND.isoformat(timespec="seconds")
    ccops.store.records.now = ccops.runner.events.now = lambda: stopped  # type: ignore[assignment]
    ccops.run.identity.datetime = ccops.quarantine.current.datetime = _Stopped  # type: ignore[misc]
    from tests.cli.scripted_cli import main as scripted

    scripted()


if __name__ == "__main__":
    main()
