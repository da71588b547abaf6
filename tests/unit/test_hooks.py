"""ccops.hooks: what a higher layer installs for a lower one (notify for run/ and report/)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ccops import hooks


@pytest.fixture(autouse=True)
def _own_hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(hooks, "_run_ends", {})
    monkeypatch.setattr(hooks, "_fleet_risks", {})
    yield


def test_a_run_end_hook_installed_twice_under_one_name_is_called_once_per_run() -> None:
    told: list[tuple[Any, str]] = []
    hooks.add_run_end("notify", lambda store, run_id: told.append(("lazy", run_id)))
    hooks.add_run_end("notify", lambda store, run_id: told.append(("real", run_id)))  # notify imported later
    hooks.add_run_end("audit", lambda store, run_id: told.append(("audit", run_id)))
    hooks.run_ended(None, "RUN-1")  # type: ignore[arg-type]
    assert told == [("real", "RUN-1"), ("audit", "RUN-1")]


def test_fleet_risks_are_every_source_s_in_registration_order() -> None:
    now = datetime(2026, 12, 7, tzinfo=UTC)
    hooks.add_fleet_risks("a", lambda at: [{"kind": "a", "at": at}])
    hooks.add_fleet_risks("b", lambda at: [])
    hooks.add_fleet_risks("a", lambda at: [{"kind": "a2", "at": at}])  # replaced, keeps its place
    assert hooks.fleet_risks(now) == [{"kind": "a2", "at": now}]
    assert hooks.fleet_risks(now)[0]["at"] is now


def test_nothing_installed_nothing_called() -> None:
    hooks.run_ended(None, "RUN-1")  # type: ignore[arg-type]
    assert hooks.fleet_risks(datetime.now(UTC)) == []
