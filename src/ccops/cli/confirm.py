"""Asking the operator before a run changes hosts: the one confirmation every command uses."""

from __future__ import annotations

import sys

import click

from ccops.errors import RefusedError
from ccops.safe_text import visible


def confirm(what: str, yes: bool) -> None:
    """Go on only if the operator says yes (or passed --yes).

    A "no", an empty answer or no terminal to ask on is a refusal (exit 5,
    nothing done); Ctrl-C at the prompt stays an interrupt (exit 130).
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise RefusedError(f"refusing to {what} without confirmation: pass --yes")
    try:
        # the question names what a host reported (a backup's time) or a value typed: shown, never obeyed
        agreed = click.confirm(visible(f"{what}?"), default=False, err=True)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise RefusedError(f"no answer; did not {what}") from None  # stdin closed at the prompt
    if not agreed:
        raise RefusedError(f"declined; did not {what}")
