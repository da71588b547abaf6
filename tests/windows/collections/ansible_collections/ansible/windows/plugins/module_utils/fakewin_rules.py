# Contract tests only: fakewin.run with the argument rules the real module declares
# (required_if, mutually_exclusive, required_together, read from its .ps1 spec), and a
# seat that refuses the connection account's logon once its network logon right is gone
# (state "locked_out"): every WinRM task after that is a new logon, and fails.
from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.fakewin import _load, _save, log


def run_checked(module_name, argument_spec, handler, **rules) -> None:
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **rules)
    state = _load()
    if state.get("locked_out"):
        log(state, module_name, "refused_logon", {})
        _save(state)
        module.fail_json(msg="winrm: the connection account may no longer log on (SeNetworkLogonRight removed)")
    op, result = handler(module.params, state)
    log(
        state,
        module_name,
        op,
        {k: v for k, v in module.params.items() if v is not None and k not in _secret(argument_spec)},
    )
    _save(state)
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


def _secret(spec) -> set:
    return {k for k, v in spec.items() if v.get("no_log")}
