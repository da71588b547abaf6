# Contract-test stand-in for ansible.windows.win_reg_stat. See module_utils/fakewin.py.
# Answers the one value ccops reads: the seat's MachineGuid (its identity for backups).
# As the real module: a path outside HKCC/HKCR/HKCU/HKLM/HKU fails; a value that is not
# there is {exists: false} with no value key.
from __future__ import annotations

import re

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import run

SPEC = {
    "path": {"type": "str", "required": True, "aliases": ["key"]},
    "name": {"type": "str", "aliases": ["entry", "value"]},
}
DEFAULT_MACHINE_GUID = "6f1c2a9e-3b7d-4e15-9a42-0c8d5e7b1f30"  # the same default as win_powershell's backup model


def handle(params, state):
    path = params["path"]
    if not re.match(r"^HK(CC|CR|CU|LM|U):\\", path, re.IGNORECASE):  # the real check (-notmatch ignores case)
        return "win_reg_stat", {
            "failed": True,
            "changed": False,
            "msg": f"path: {path} is not a valid registry path, see module documentation for examples.",
        }
    if path.lower() == r"hklm:\software\microsoft\cryptography" and params["name"] == "MachineGuid":
        guid = state.get("machine_guid", DEFAULT_MACHINE_GUID)
        if guid is None:  # a seat whose MachineGuid is gone (a damaged or hand-made image)
            return "machine_guid.read", {"changed": False, "exists": False}
        return "machine_guid.read", {
            "changed": False,
            "exists": True,
            "type": "REG_SZ",
            "raw_value": guid,
            "value": guid,
        }
    return "win_reg_stat", {"changed": False, "exists": False}


if __name__ == "__main__":
    run("win_reg_stat", SPEC, handle)
