"""One error hierarchy, caught once at the top of the CLI, and the exit codes it ends in.

A user sees one clear line and an exit code a pipeline can act on; the
traceback only with ``--debug``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotation: errors imports nothing of ccops at run time
    from ccops.inventory.yamldoc import Problem

# The exit-code table: the README's "Output, exit codes, records" and the
# ``ccops --help`` epilog are made from (and tested against) this one list.
EXIT_OK = 0
EXIT_INPUT = 1  # bad input or setup: inventory problems, unknown host/run/backup, missing prerequisites
EXIT_HOSTS_FAILED = 2  # the run finished but one or more hosts failed or were unreachable
EXIT_HALTED = 3  # a rollout gate stopped the run before the next batch
EXIT_ENGINE = 4  # Ansible itself could not run (syntax error, missing collection, ...)
EXIT_REFUSED = 5  # ccops did nothing: confirmation declined or impossible, or a guard refused
EXIT_USAGE = 64  # the command line is wrong (EX_USAGE): options, arguments, selectors naming nothing
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: Ansible stopped, the run recorded as interrupted

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "done",
    EXIT_INPUT: "bad input or setup (inventory, records, backups, prerequisites)",
    EXIT_HOSTS_FAILED: "hosts failed or were unreachable",
    EXIT_HALTED: "a rollout gate halted the run",
    EXIT_ENGINE: "Ansible could not run",
    EXIT_REFUSED: "refused, nothing done: confirmation declined or a guard (offline inventory, lifecycle)",
    EXIT_USAGE: "usage error: unknown option or argument, a selector that names nothing",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C, SIGTERM); ccops resume RUN continues",
}


class CcopsError(Exception):
    """An error a user can act on, with the exit code the CLI returns."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(CcopsError):
    """The command line names something that does not exist (a verb, a site, a host pattern)."""

    exit_code = EXIT_USAGE


class RefusedError(CcopsError):
    """ccops refused to act and changed nothing: no confirmation, or a guard said no."""

    exit_code = EXIT_REFUSED


class InventoryError(CcopsError):
    """The inventory has problems; each one is a ``FILE:LINE: message`` line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class LabError(CcopsError):
    """The local lab fleet could not be built, started or reached."""


class EngineError(CcopsError):
    exit_code = EXIT_ENGINE
