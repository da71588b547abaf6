"""Controller-side judging of a Windows seat's health (roles/patch/tasks/health_windows.yml),
from win_service_info's services and win_command's results as the real modules return them.

win_services_settled(services, wanted) -> bool
    no declared service is *_pending, and none set to delayed start is still stopped
    (Windows starts those some minutes after boot: judging them earlier fails a healthy seat).
win_command_problems(results) -> [str]
    a check that could not start (win_command sets rc, 2 or the launch error's code, but never
    start/stdout) and a check that ran and exited non-zero, each named by its argv.
"""

from __future__ import annotations

from typing import Any


def _declared(services: Any, wanted: list[str]) -> list[dict[str, Any]]:
    if not isinstance(services, list):
        return []
    names = {w.lower() for w in wanted}  # service names are case-insensitive on Windows
    return [s for s in services if isinstance(s, dict) and str(s.get("name", "")).lower() in names]


def win_services_settled(services: Any, wanted: list[str]) -> bool:
    for svc in _declared(services, wanted):
        state = str(svc.get("state", ""))
        if state.endswith("_pending"):
            return False
        if state == "stopped" and svc.get("start_mode") == "delayed":
            return False
    return True


def win_services_not_running(services: Any, wanted: list[str]) -> list[str]:
    running = {str(s.get("name", "")).lower() for s in _declared(services, wanted) if s.get("state") == "started"}
    return [w for w in wanted if w.lower() not in running]


def win_command_problems(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for res in results:
        argv = " ".join(str(a) for a in res.get("item") or [])
        if "start" not in res:  # the program never ran, whatever rc says
            out.append(f"check could not start: {argv}")
        elif res.get("rc") != 0:
            out.append(f"check failed: {argv}")
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "win_services_settled": win_services_settled,
            "win_services_not_running": win_services_not_running,
            "win_command_problems": win_command_problems,
        }
