# Contract-test stand-in for ansible.windows' win_powershell action plugin: as the real one
# does, `path` (a file on the controller, found like a role's files/) becomes the script the
# module receives; path and script together are refused.
from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars or {})
        args = dict(self._task.args)
        path = args.pop("path", None)
        if path and not args.get("remote_src"):
            if args.get("script"):
                raise AnsibleActionFail("parameters are mutually exclusive: path, script")
            args["script"] = self._loader.get_text_file_contents(self._find_needle("files", path))
        args.pop("remote_src", None)
        result.update(self._execute_module("ansible.windows.win_powershell", module_args=args, task_vars=task_vars))
        return result
