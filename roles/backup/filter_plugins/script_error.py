"""Why a win_powershell script failed, read from the module's result on the controller.

On a terminating error (throw, or $ErrorActionPreference = 'Stop') ansible.windows'
win_powershell returns failed: true with no msg of its own: the reason is in
error[].exception.message (win_powershell.ps1, "error"). Without this the user would
read Ansible's own "Module failed: Unknown error." for a module failing without a msg.

ccops_win_script_error(result) -> the first error record's message, else the msg, else "failed".
"""

from __future__ import annotations

from typing import Any


def ccops_win_script_error(result: Any) -> str:
    if not isinstance(result, dict):
        return "failed"
    for record in result.get("error") or []:
        exception = record.get("exception") if isinstance(record, dict) else None
        message = exception.get("message") if isinstance(exception, dict) else None
        if isinstance(message, str) and message.strip():
            return message.strip()
    msg = result.get("msg")
    return msg.strip() if isinstance(msg, str) and msg.strip() else "failed"


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"ccops_win_script_error": ccops_win_script_error}
