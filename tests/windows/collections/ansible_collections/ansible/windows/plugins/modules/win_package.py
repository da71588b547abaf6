# Contract-test stand-in for ansible.windows.win_package (options, argument rules and
# return values as its win_package.ps1 and documentation state them). The seat's
# programs: state["programs"] {product id: version} and state["program_files"]
# [paths an EXE leaves]; state["installers"] {file name: {product_id, creates, exit}}.
# rc outside expected_return_code (default 0, 3010) fails; 3010 sets reboot_required.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import run

SPEC = {
    "arguments": {"type": "raw"},
    "expected_return_code": {"type": "list", "elements": "int", "default": [0, 3010]},
    "path": {"type": "str"},
    "chdir": {"type": "path"},
    "checksum": {"type": "str"},
    "checksum_algorithm": {
        "type": "str",
        "default": "sha1",
        "choices": ["md5", "sha1", "sha256", "sha384", "sha512"],
    },
    "product_id": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": ["absent", "present"]},
    "creates_path": {"type": "path"},
    "creates_version": {"type": "str"},
    "creates_service": {"type": "str"},
    "log_path": {"type": "path"},
    "provider": {"type": "str", "default": "auto", "choices": ["msi", "msix", "msp", "registry", "auto"]},
    "wait_for_children": {"type": "bool", "default": False},
}
RULES = {
    "required_by": {"creates_version": "creates_path"},
    "required_if": [["state", "present", ["path"]], ["state", "absent", ["path", "product_id"], True]],
}


def _installed(params, state):
    if params["product_id"]:
        return params["product_id"] in state.get("programs", {})
    return params["creates_path"] in state.get("program_files", [])


def handle(params, state, check_mode=False):
    installed = _installed(params, state)
    want = params["state"] == "present"
    result = {"changed": installed != want, "reboot_required": False}
    if installed == want or state.get("_check_mode"):
        return f"win_package.{'check' if state.get('_check_mode') else 'noop'}", result
    name = (params["path"] or "").rsplit("/", 1)[-1]
    if want:
        spec = state.get("installers", {}).get(name, {})
        rc = spec.get("exit", 0)
        if rc in (0, 3010):
            if spec.get("product_id"):
                state.setdefault("programs", {})[spec["product_id"]] = spec.get("version", "")
            if spec.get("creates"):
                state.setdefault("program_files", []).append(spec["creates"])
        op = "win_package.install"
    else:
        rc = state.get("uninstall_exit", {}).get(params["product_id"] or "", 0)
        if rc in (0, 3010):
            state.get("programs", {}).pop(params["product_id"], None)
        op = "win_package.remove"
    result.update(rc=rc, stdout="", stderr="", reboot_required=rc == 3010)
    result["failed"] = rc not in params["expected_return_code"]  # the real module says failed: false itself
    if result["failed"]:
        result.update(
            failed=True,
            msg=f"unexpected rc from {name or params['product_id']}: see rc, stdout, and stderr for more details",
        )
    return op, result


if __name__ == "__main__":
    run("win_package", SPEC, handle, RULES)
