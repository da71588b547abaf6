"""ccops_report: the one way a role hands a host's result back to ccops.

    - name: Report a host that is up to date
      ccops_report:
        report: {outcome: up_to_date, reason: "..."}

Runs on the controller (the same for Debian and Windows hosts) and sets the host fact
``ccops_report``, which ccops reads from the task's result (runner/events.py parses it once,
against the verb's declared shape). Every report names its outcome and reason: a report
without them is a role bug, failed here rather than recorded as a damaged host later.
"""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("report",))

    def run(self, tmp: Any = None, task_vars: Any = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        report = self._task.args.get("report")
        if not isinstance(report, dict):
            return {**result, "failed": True, "msg": "ccops_report: report must be a mapping"}
        missing = sorted({"outcome", "reason"} - set(report))
        if missing:
            return {**result, "failed": True, "msg": f"ccops_report: the report lacks {', '.join(missing)}"}
        return {**result, "changed": False, "ansible_facts": {"ccops_report": report}}
