# Contract-test stand-in for ansible.windows.win_service_info. See module_utils/fakewin.py.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import run

SPEC = {"name": {"type": "str"}}


def handle(params, state):
    settling = state.get("settling_polls", 0) > 0
    if settling:
        state["settling_polls"] -= 1
    services = []
    for name, svc in state["services"].items():
        broken = svc.get("broken_by") in state["packages"]
        status = "start_pending" if settling else ("stopped" if broken else "started")
        services.append({"name": name, "display_name": name, "state": status, "start_mode": "auto"})
    return "win_service_info", {"changed": False, "exists": True, "services": services}


if __name__ == "__main__":
    run("win_service_info", SPEC, handle)
