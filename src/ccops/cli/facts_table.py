"""The table of a verb that gathers facts (Verb.facts): one row per host, one column per fact."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ccops.cli.output import table, uptime

if TYPE_CHECKING:
    from ccops.run.request import RunResult
    from ccops.verbs import Fact

SHOWN: dict[str, Callable[[Any], str]] = {
    "text": lambda value: "-" if value is None else str(value),
    "count": lambda value: "-" if value is None else str(value),
    "seconds": uptime,
}


def facts_table(facts: tuple[Fact, ...]) -> Callable[[RunResult], str]:
    """HOST, RESULT, the facts as the hosts' parsed reports hold them ("-" where a host gave none), MESSAGE."""

    def shown(result: RunResult) -> str:
        rows = []
        for outcome in result.hosts:
            report = result.reports.get(outcome.host) or {}
            values = [SHOWN[fact.kind](report.get(fact.key)) for fact in facts]
            rows.append([outcome.host, outcome.outcome, *values, outcome.message or ""])
        return table(rows, ["HOST", "RESULT", *(fact.header for fact in facts), "MESSAGE"])

    return shown
