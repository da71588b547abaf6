# Contract-test stand-in for ansible.windows.win_certificate_store (spec and required_if from
# win_certificate_store.ps1). state absent removes the certificate from the store only
# ($store.Remove): its private key container stays, as on Windows.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "state": {"type": "str", "default": "present", "choices": ["absent", "exported", "present"]},
    "path": {"type": "path"},
    "thumbprint": {"type": "str"},
    "store_name": {"type": "str", "default": "My"},
    "store_location": {"type": "str", "default": "LocalMachine"},
    "store_type": {"type": "str", "default": "system", "choices": ["service", "system"]},
    "password": {"type": "str", "no_log": True},
    "key_exportable": {"type": "bool", "default": True},
    "key_storage": {"type": "str", "default": "default", "choices": ["default", "machine", "user"]},
    "file_type": {"type": "str", "default": "der", "choices": ["der", "pem", "pkcs12"]},
}
RULES = {
    "required_if": [
        ["state", "absent", ["path", "thumbprint"], True],
        ["state", "exported", ["path", "thumbprint"]],
        ["state", "present", ["path"]],
    ]
}


def handle(params, state):
    certs = state.setdefault("certificates", {})
    thumbprints = [params["thumbprint"].upper()] if params["thumbprint"] else []
    removed = [t for t in thumbprints if t in certs]
    for t in removed:
        key = certs.pop(t).get("key")
        if key:  # the store forgets the certificate; its key container stays on the disk
            state.setdefault("orphan_keys", []).append(key)
    return "win_certificate_store." + params["state"], {"changed": bool(removed), "thumbprints": removed}


if __name__ == "__main__":
    run_checked("win_certificate_store", SPEC, handle, **RULES)
