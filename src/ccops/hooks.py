"""Hooks a higher layer installs for a lower one, so the lower one never imports it.

notify installs two, by name (notify/wiring.py), when it is imported and, through the CLI,
before every command (importing its sending code only when one is called): what
runs when a run ends (the run's report queued for the people on duty), and fleet-wide
risks a fleet view lists beside the hosts' own (reports still undelivered). run/ and
report/ call what is installed; tests/unit/test_layering.py keeps them from importing notify.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccops.store.records import Store

RunEnd = Callable[["Store", str], None]  # (store, run id), after the run's record is finished
FleetRisks = Callable[[datetime], list[dict[str, Any]]]  # now -> risks with site and host None

_run_ends: dict[str, RunEnd] = {}
_fleet_risks: dict[str, FleetRisks] = {}


def add_run_end(name: str, hook: RunEnd) -> None:
    """Call ``hook`` at the end of every run executed or resumed; one hook per name (again: replaced)."""
    _run_ends[name] = hook


def run_ended(store: Store, run_id: str) -> None:
    """A run's record is finished: tell whoever asked (a hook never fails the run: it handles its own errors)."""
    for hook in tuple(_run_ends.values()):
        hook(store, run_id)


def add_fleet_risks(kind: str, source: FleetRisks) -> None:
    """Fleet views also list ``source(now)``; one source per risk kind (registering it again replaces it)."""
    _fleet_risks[kind] = source


def fleet_risks(now: datetime) -> list[dict[str, Any]]:
    """The risks of every registered source, in the order they were first registered."""
    return [risk for source in tuple(_fleet_risks.values()) for risk in source(now)]
