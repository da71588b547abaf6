"""Asking the operator before a run changes hosts: the one confirmation every command uses."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from ccops.cli.output import echo
from ccops.errors import RefusedError
from ccops.plan.build import Plan
from ccops.text.safe_text import visible

F = TypeVar("F", bound=Callable[..., Any])


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


def names_option(func: F) -> F:
    """--confirm NAMES: the typed-names confirmation (Verb.confirmation "names") for pipelines."""
    return click.option(
        "--confirm",
        "typed",
        metavar="NAMES",
        help="The exact names of the selected hosts (spaces or commas between them), for pipelines.",
    )(func)


def confirm_names(verb: str, what: str, names: list[str], typed: str | None) -> None:
    """Go on only if the names typed (``typed``, else asked for) are exactly ``names``, each once."""
    given = typed if typed is not None else _ask_names(verb, what, names)
    check_names(names, given)


def check_names(names: list[str], typed: str) -> None:
    """The names typed (spaces or commas between them) must be exactly the selected hosts."""
    given = [n for n in typed.replace(",", " ").split() if n]
    wanted = sorted(names)
    if sorted(given) != wanted:
        missing = sorted(set(wanted) - set(given))
        extra = sorted(set(given) - set(wanted))
        detail = "; ".join(
            part
            for part in (
                f"not typed: {', '.join(missing)}" if missing else "",
                f"not selected: {', '.join(extra)}" if extra else "",
                "a name given twice" if not missing and not extra else "",
            )
            if part
        )
        raise RefusedError(f"the host names do not match the {len(wanted)} selected ({detail}); nothing done")


def _ask_names(verb: str, what: str, names: list[str]) -> str:
    if not sys.stdin.isatty():
        raise RefusedError(f"refusing to {verb} without the host names typed: pass --confirm 'NAME ...'")
    echo(visible(f"{what}: {', '.join(names)}"), err=True)
    try:
        return str(click.prompt("type their names to confirm", default="", show_default=False, err=True))
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise RefusedError("no answer; nothing done") from None
