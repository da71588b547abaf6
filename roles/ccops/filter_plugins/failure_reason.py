"""Why a task failed, read from its registered result on the controller (every role: each
depends on the ccops role, so its filters are loaded with any of them).

On a terminating error (throw, or $ErrorActionPreference = 'Stop') ansible.windows'
win_powershell returns failed: true with no msg of its own: the reason is in
error[].exception.message (win_powershell.ps1, "error"), and Ansible shows only its own
"Module failed: Unknown error.". Other modules say why in msg; a command that exits
non-zero may say it only on stderr. A failed loop's reason is its first failed item's.

ccops_win_script_error(result) -> the first error record's message, else the msg, followed by
the first non-empty line of stderr when there is one, else "failed". Never raises: the result
is the host's.
"""

from __future__ import annotations

from typing import Any

LIMIT = 600  # a reason is one line of a report, not the host's whole output


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _error_record(result: dict[str, Any]) -> str:
    records = result.get("error")
    for record in records if isinstance(records, list) else []:
        exception = record.get("exception") if isinstance(record, dict) else None
        message = _text(exception.get("message")) if isinstance(exception, dict) else ""
        if message:
            return message
    return ""


def _first_line(value: Any) -> str:
    return next((line.strip() for line in _text(value).splitlines() if line.strip()), "")


def _reason(result: Any, depth: int = 0) -> str:
    if not isinstance(result, dict):
        return ""
    items = result.get("results")
    if depth == 0 and isinstance(items, list):
        failed = next((i for i in items if isinstance(i, dict) and i.get("failed") is True), None)
        reason = _reason(failed, 1)
        if reason:
            return reason
    said = _error_record(result) or _text(result.get("msg"))
    stderr = _first_line(result.get("stderr"))
    # a command's msg ("non-zero return code") says nothing without what it wrote on stderr
    return f"{said}: {stderr}" if said and stderr and stderr not in said else said or stderr


def ccops_win_script_error(result: Any) -> str:
    reason = _reason(result) or "failed"
    return reason if len(reason) <= LIMIT else reason[: LIMIT - 3] + "..."


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"ccops_win_script_error": ccops_win_script_error}
