"""Whether a seat is busy, judged on the controller from what the seat's checks answered
(roles/precheck/tasks/refuse_busy_seat.yml). Both answers are untrusted: the site's busy
command (its exit code: 0 free, other busy) and the seat service's JSON ({"busy": ...}).

seat_busy_reason(command_result, url_result) -> "" when the seat is free, else why it is
left alone. An answer that cannot be read leaves the seat alone too (said so), never fails
the host: {"busy": "no"} is free, {"busy": "maybe"} is not understood.
"""

from __future__ import annotations

from typing import Any

_FREE = {"no", "false", "0", "free", "idle"}
_BUSY = {"yes", "true", "1", "busy"}


def _printable(text: Any, limit: int = 120) -> str:
    return "".join(c if c.isprintable() else "?" for c in str(text))[:limit]


def _command_reason(result: Any) -> str:
    if not isinstance(result, dict) or result.get("skipped") or not result:
        return ""
    ran = "start" in result or "stdout" in result
    if not ran or result.get("rc") is None:
        return f"the busy check could not run ({_printable(result.get('msg', 'no result'))})"
    if result.get("rc") != 0:
        return _printable(str(result.get("stdout") or "").strip()) or "an agent is using it"
    return ""


def _url_reason(result: Any) -> str:
    if not isinstance(result, dict) or result.get("skipped") or not result:
        return ""
    if result.get("failed") or result.get("status") != 200:
        return f"the seat service did not answer (status {_printable(result.get('status', 'none'))})"
    answer = result.get("json")
    busy = answer.get("busy") if isinstance(answer, dict) else None
    if isinstance(busy, bool):
        return "an agent is using it" if busy else ""
    if isinstance(busy, str) and busy.strip().lower() in _FREE | _BUSY:
        return "an agent is using it" if busy.strip().lower() in _BUSY else ""
    return f"the seat service's answer is not understood ({_printable(busy)!r})"


def seat_busy_reason(command_result: Any, url_result: Any) -> str:
    return _command_reason(command_result) or _url_reason(url_result)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"seat_busy_reason": seat_busy_reason}
