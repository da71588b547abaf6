# Contract-test stand-in for ansible.windows.win_service: start and start mode of a modelled
# service ("services": {name: {status, start_type}}); a service the seat lacks fails as the
# real module does when state is given.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["absent", "paused", "started", "stopped", "restarted"]},
    "start_mode": {"type": "str", "choices": ["auto", "manual", "disabled", "delayed"]},
    "force_dependent_services": {"type": "bool", "default": False},
}
RULES = {"required_by": {"password": ["username"]}}  # options ccops never passes: kept as the real spec has them
MODES = {"auto": "Automatic", "manual": "Manual", "disabled": "Disabled", "delayed": "AutomaticDelayedStart"}


def handle(params, state):
    service = state.get("services", {}).get(params["name"])
    if service is None:
        return "win_service", {
            "failed": True,
            "changed": False,
            "msg": f"Service '{params['name']}' is not installed, need to set 'path' to create a new service",
        }
    before = dict(service)
    if params["state"] == "started":
        service["status"] = "Running"
    if params["start_mode"]:
        service["start_type"] = MODES[params["start_mode"]]
    return "win_service", {"changed": before != service, "exists": True}


if __name__ == "__main__":
    run_checked("win_service", SPEC, handle, **RULES)
