# Contract-test stand-in for ansible.windows.win_updates (options and return
# values as its documentation states them). See module_utils/fakewin.py.
from __future__ import annotations

import re

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import reboot, run

SPEC = {
    "state": {"type": "str", "default": "installed", "choices": ["installed", "searched", "downloaded"]},
    "category_names": {
        "type": "list",
        "elements": "str",
        "default": ["CriticalUpdates", "SecurityUpdates", "UpdateRollups"],
    },
    "accept_list": {"type": "list", "elements": "str"},
    "reject_list": {"type": "list", "elements": "str"},
    "reboot": {"type": "bool", "default": False},
    "reboot_timeout": {"type": "int", "default": 1200},
    "log_path": {"type": "path"},
    "skip_optional": {"type": "bool", "default": False},
}


_CATEGORY = {
    "CriticalUpdates": "Critical Updates",
    "DefinitionUpdates": "Definition Updates",
    "DeveloperKits": "Developer Kits",
    "FeaturePacks": "Feature Packs",
    "SecurityUpdates": "Security Updates",
    "ServicePacks": "Service Packs",
    "UpdateRollups": "Update Rollups",
}


def _in_list(entries, patterns):
    # win_updates.ps1 Test-InList: `$entry -imatch $pattern`, a case-insensitive regular expression search
    return any(re.search(p, e, re.IGNORECASE) for e in entries for p in patterns)


def _wanted(update, params):
    entries = [update["title"], *update["kb"]]  # the title and the KB numbers (digits only)
    categories = [c.lower() for c in update["categories"]]
    # win_updates.ps1 maps the short names (switch -exact, case-sensitive) to Windows Update's own
    wanted = [_CATEGORY.get(c, c).lower() for c in params["category_names"] or []]
    if wanted and "*" not in wanted and not set(wanted) & set(categories):
        return False
    if params["accept_list"] and not _in_list(entries, params["accept_list"]):
        return False
    return not _in_list(entries, params["reject_list"] or [])


def _shape(update, installed):
    return {
        "title": update["title"],
        "kb": update["kb"],
        "id": update["id"],
        "downloaded": installed,
        "installed": installed,
        "categories": update["categories"],
    }


def handle(params, state):
    chosen = [u for u in state["pending_updates"] if _wanted(u, params)]
    if params["state"] == "searched":
        return "win_updates.search", {
            "changed": False,
            "reboot_required": False,
            "rebooted": False,
            "updates": {u["id"]: _shape(u, False) for u in chosen},
            "filtered_updates": {},
            "found_update_count": len(chosen),
            "installed_update_count": 0,
            "failed_update_count": 0,
        }
    failure = state.get("fail", {}).get("install")
    if failure:
        shaped = {
            u["id"]: {**_shape(u, False), "failure_hresult_code": 2147942402, "failure_msg": failure} for u in chosen
        }
        return "win_updates.install", {
            "failed": True,
            "msg": f"Failed to install updates: {failure}",
            "updates": shaped,
            "found_update_count": len(chosen),
            "installed_update_count": 0,
            "failed_update_count": len(chosen),
            "reboot_required": False,
            "rebooted": False,
            "filtered_updates": {},
        }
    for update in chosen:
        state["pending_updates"].remove(update)
        state["packages"] += update["packages"]
        state["hotfixes"] += ["KB" + kb for kb in update["kb"]]
        state["paths"].update(update.get("writes", {}))
        for package in update["packages"]:
            state["package_kbs"][package] = ["KB" + kb for kb in update["kb"]]
    needs_reboot = any(u.get("reboot", True) for u in chosen)
    rebooted = bool(params["reboot"] and needs_reboot)
    for update in chosen:  # installed, waiting for the reboot
        if update.get("reboot", True):
            state.setdefault("package_states", {}).update(dict.fromkeys(update["packages"], "InstallPending"))
    if rebooted:
        reboot(state)
    return "win_updates.install", {
        "changed": bool(chosen),
        "reboot_required": needs_reboot and not rebooted,
        "rebooted": rebooted,
        "updates": {u["id"]: _shape(u, True) for u in chosen},
        "filtered_updates": {},
        "found_update_count": len(chosen),
        "installed_update_count": len(chosen),
        "failed_update_count": 0,
    }


if __name__ == "__main__":
    run("win_updates", SPEC, handle)
