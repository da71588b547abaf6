"""What the CLI hands the layers below it for one command: notify hears of every run's end
and lists its undelivered reports as fleet risks (ccops.hooks), though run/ and report/
never import notify. Imported when a command runs; notify itself only when it is needed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ccops import hooks

if TYPE_CHECKING:
    from ccops.store.records import Store


def wire() -> None:
    hooks.add_run_end("notify", _tell_run_end)
    hooks.add_fleet_risks("notify_undelivered", _undelivered)


def _tell_run_end(store: Store, run_id: str) -> None:
    from ccops.notify.send import notify_run_end  # by notify.yml's rules; never fails the run

    notify_run_end(store, run_id)


def _undelivered(now: datetime) -> list[dict[str, Any]]:
    from ccops.notify.send import undelivered_risks

    return undelivered_risks(now)
