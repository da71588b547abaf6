"""One error hierarchy, caught once at the top of the CLI.

A user sees one clear line and an exit code a pipeline can act on; the
traceback only with ``--debug``.
"""

# Exit codes (documented in the README and in ``ccops --help``).
EXIT_OK = 0
EXIT_USAGE = 1  # bad input: inventory, options, missing prerequisites
EXIT_HOSTS_FAILED = 2  # the run finished but one or more hosts failed or were unreachable
EXIT_HALTED = 3  # a rollout gate stopped the run before the next batch
EXIT_ENGINE = 4  # Ansible itself could not run (syntax error, missing collection, ...)
EXIT_INTERRUPTED = 130


class CcopsError(Exception):
    """An error a user can act on, with the exit code the CLI returns."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InventoryError(CcopsError):
    """The inventory has problems; each one is a ``FILE:LINE: message`` line."""

    def __init__(self, problems: list) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class LabError(CcopsError):
    """The local lab fleet could not be built, started or reached."""


class EngineError(CcopsError):
    exit_code = EXIT_ENGINE
