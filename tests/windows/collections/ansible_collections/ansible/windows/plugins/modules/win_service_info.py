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
        mode = svc.get("start_mode", "auto")
        # a delayed-start service is stopped for its first polls after each boot
        waited = svc.setdefault("polls_since_boot", {}).get(str(state["boot"]), 0)
        svc["polls_since_boot"][str(state["boot"])] = waited + 1
        if mode == "delayed" and not broken and waited < svc.get("delayed_polls", 0):
            status = "stopped"
        services.append({"name": name, "display_name": name, "state": status, "start_mode": mode})
    return "win_service_info", {"changed": False, "exists": True, "services": services}


if __name__ == "__main__":
    run("win_service_info", SPEC, handle)
