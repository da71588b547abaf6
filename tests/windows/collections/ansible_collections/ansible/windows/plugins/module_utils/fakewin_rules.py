# Contract tests only: fakewin.run with the argument rules the real module declares
# (required_if, mutually_exclusive, required_together, read from its .ps1 spec), as
# keyword arguments (the older stand-ins' call).
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import run


def run_checked(module_name, argument_spec, handler, **rules) -> None:
    run(module_name, argument_spec, handler, rules)
