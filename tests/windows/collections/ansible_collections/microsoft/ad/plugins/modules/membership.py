# Contract-test stand-in for microsoft.ad.membership (spec, mutually_exclusive, required_if and
# required_together copied from membership.ps1: leaving a domain, state workgroup, needs
# workgroup_name AND domain_admin_user AND domain_admin_password). Remove-Computer with the
# account's credentials; the seat is a workgroup member after its next boot.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "dns_domain_name": {"type": "str"},
    "domain_admin_user": {"type": "str"},
    "domain_admin_password": {"type": "str", "no_log": True},
    "domain_ou_path": {"type": "str"},
    "domain_server": {"type": "str"},
    "hostname": {"type": "str"},
    "offline_join_blob": {"type": "str", "no_log": True},
    "reboot": {"type": "bool", "default": False},
    "reboot_timeout": {"type": "int", "default": 600},
    "state": {"type": "str", "choices": ["domain", "workgroup"], "required": True},
    "workgroup_name": {"type": "str"},
}
RULES = {
    "mutually_exclusive": [
        ("offline_join_blob", "domain_admin_user"),
        ("offline_join_blob", "dns_domain_name"),
        ("offline_join_blob", "domain_ou_path"),
        ("offline_join_blob", "hostname"),
    ],
    "required_if": [
        ("state", "domain", ("domain_admin_user", "offline_join_blob"), True),
        ("state", "workgroup", ("workgroup_name", "domain_admin_user", "domain_admin_password")),
    ],
    "required_together": [("domain_admin_user", "domain_admin_password")],
}


def handle(params, state):
    domain = state.get("domain")
    if params["state"] != "workgroup":
        return "membership.domain", {"failed": True, "changed": False, "msg": "contract model: joining is not modelled"}
    if not domain:
        return "membership.workgroup", {"changed": False, "reboot_required": False}
    leave = domain.get("leave_account", {})
    if params["domain_admin_user"] != leave.get("user") or params["domain_admin_password"] != leave.get("password"):
        return "membership.workgroup", {
            "failed": True,
            "changed": False,
            "msg": "Computer '...' failed to unjoin domain: Access is denied.",
        }
    state["domain_left"] = True
    return "membership.workgroup", {"changed": True, "reboot_required": True}


if __name__ == "__main__":
    run_checked("membership", SPEC, handle, **RULES)
