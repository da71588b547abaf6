"""Asking the operator before a run changes hosts: the one confirmation every command uses."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from ccops.cli.output import echo
from ccops.errors import RefusedError
from ccops.plan.build import Plan
from ccops.text.safe_text import visible


def compact_plan(plan: Plan) -> list[str]:
    """What the operator approves at the prompt: waves, then gates, windows and reboot, then the summary."""
    from ccops.plan.night import night, night_lines

    lines = [f"{w.name}: {len(w.hosts)} host(s) in {len(w.batches)} batch(es)" for w in plan.waves]
    data = night(plan)
    return [*lines, *night_lines(data), data["summary"]]


def confirm(what: str, yes: bool, details: Sequence[str] = ()) -> None:
    """Go on only if the operator says yes (or passed --yes); ``details`` are shown above the question.

    A "no", an empty answer or no terminal to ask on is a refusal (exit 5,
    nothing done); Ctrl-C at the prompt stays an interrupt (exit 130).
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise RefusedError(f"refusing to {what} without confirmation: pass --yes")
    for line in details:
        echo(visible(line), err=True)  # inventory values, shown as text: one line each
    try:
        # the question names what a host reported (a backup's time) or a value typed: shown, never obeyed
        agreed = click.confirm(visible(f"{what}?"), default=False, err=True)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise RefusedError(f"no answer; did not {what}") from None  # stdin closed at the prompt
    if not agreed:
        raise RefusedError(f"declined; did not {what}")
