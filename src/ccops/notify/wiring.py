"""notify's two hooks (ccops.hooks): it hears of every run's end and lists its undelivered reports as
fleet risks, though run/ and report/ never import it. Installed by the CLI before every command and by
notify.send when it is imported; the sending code itself is imported only when a hook is called."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ccops import hooks

if TYPE_CHECKING:
    from ccops.store.records import Store


def install() -> None:
    hooks.add_run_end("notify", _tell_run_end)
    hooks.add_fleet_risks("notify_undelivered", _undelivered)


def _tell_run_end(store: Store, run_id: str) -> None:
    from ccops.notify.send import notify_run_end  # by notify.yml's rules; never fails the run

    notify_run_end(store, run_id)


def _undelivered(now: datetime) -> list[dict[str, Any]]:
    from ccops.notify.send import undelivered_risks

    return undelivered_risks(now)
