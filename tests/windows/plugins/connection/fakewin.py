# Contract tests only: a "Windows host" played by a folder on the controller.
# Modules run locally with that folder as their working directory, so a Windows
# path such as C:\ProgramData\x is one file of that name in the folder, for the
# stand-in modules and for ansible.builtin.fetch and slurp alike.
from __future__ import annotations

DOCUMENTATION = """
    name: fakewin
    short_description: contract tests, a Windows host played by a folder
    description: Runs modules on the controller with the host's folder as working directory.
    author: ccops
    options:
        root:
            description: the host's folder
            type: str
            required: true
            vars:
                - name: ccops_contract_root
        become_success_timeout:
            type: int
            default: 10
            description: see the local connection
            vars:
                - name: ansible_local_become_success_timeout
        become_strip_preamble:
            type: bool
            default: true
            description: see the local connection
            vars:
                - name: ansible_local_become_strip_preamble
    extends_documentation_fragment:
        - connection_pipelining
"""

from ansible.plugins.connection.local import Connection as LocalConnection  # noqa: E402 (DOCUMENTATION first)


class Connection(LocalConnection):
    transport = "fakewin"

    def _connect(self):
        self.cwd = self.get_option("root")
        return super()._connect()
