# Contract tests only: a small model of one Windows seat, shared by the stand-in
# modules of this test collection. The seat is a folder (the module's working
# directory, see tests/windows/plugins/connection/fakewin.py) holding state.json
# (packages, hotfixes, pending updates, UWF / Deep Freeze state, declared paths,
# services) and calls.jsonl (every module call, in order). Windows paths are
# files of that literal name in the folder. Results take the shape the real
# modules document (ansible.windows 3.x, their .py documentation stubs).
#
# A write filter is modelled as it behaves: whatever is written while the seat
# is protected (files, packages, declared paths) is gone at the next boot.
from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import time
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

STATE = "state.json"
CALLS = "calls.jsonl"
DISK_KEYS = ("packages", "hotfixes", "paths")


def _load() -> dict:
    return json.loads(Path(STATE).read_text(encoding="utf-8"))


def _save(state: dict) -> None:
    Path(STATE).write_text(json.dumps(state, indent=1), encoding="utf-8")


def _protected(state: dict) -> bool:
    return bool((state.get("uwf") or {}).get("current") or (state.get("deepfreeze") or {}).get("frozen"))


def _disk_files() -> dict:
    return {
        p.name: base64.b64encode(p.read_bytes()).decode()
        for p in Path().iterdir()
        if p.name not in (STATE, CALLS) and p.is_file()
    }


def _snapshot(state: dict) -> None:
    """What a protected boot starts from, and returns to at the next boot."""
    state["boot_snapshot"] = {"files": _disk_files(), **{k: state[k] for k in DISK_KEYS}} if _protected(state) else None


def reboot(state: dict) -> None:
    snap = state.get("boot_snapshot")
    if snap:  # the filter throws away this boot's writes
        for name in _disk_files():
            Path(name).unlink()
        for name, data in snap["files"].items():
            Path(name).write_bytes(base64.b64decode(data))
        state.update({k: snap[k] for k in DISK_KEYS})
    state["package_states"] = {}  # install-pending packages are installed by the boot
    for name in state.pop("pending_removals", []):
        state["packages"].remove(name)
        state["hotfixes"] = [kb for kb in state["hotfixes"] if kb not in state["package_kbs"].get(name, [])]
    if state.get("uwf"):
        state["uwf"]["current"] = state["uwf"]["next"]
    if state.get("deepfreeze"):
        state["deepfreeze"]["frozen"] = state["deepfreeze"]["next_frozen"]
    state["boot"] += 1
    state["settling_polls"] = state.get("settle_polls", 0)
    _snapshot(state)


def package_list(state: dict) -> str:
    """Get-WindowsPackage -Online as the gathering scripts write it: raw JSON, one record per
    package with its state as text (InstallPending until the reboot an update needs)."""
    states = state.get("package_states") or {}
    return json.dumps([{"PackageName": n, "PackageState": states.get(n, "Installed")} for n in state["packages"]])


def write_file(name: str, data: bytes) -> None:
    Path(name).write_bytes(data)


def remove_tree(path: str) -> bool:
    gone = [p for p in Path().iterdir() if p.name == path or p.name.startswith(path.rstrip("\\") + "\\")]
    for name in gone:
        name.unlink()
    return bool(gone)


def member_of(path: str) -> str:
    return path.split(":", 1)[-1].strip("\\").replace("\\", "/")


def sha256(name: str) -> str:
    return hashlib.sha256(Path(name).read_bytes()).hexdigest()


def log(state: dict, module: str, op: str, params: dict) -> None:
    entry = {
        "module": module,
        "op": op,
        "args": params,
        "boot": state["boot"],
        "uwf": state.get("uwf"),
        "deepfreeze": state.get("deepfreeze"),
    }
    with Path(CALLS).open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, default=str) + "\n")


def _refused_logon(state: dict) -> str:
    """Why the seat refuses the connection account's next logon, or "": its network logon
    right was taken (state "locked_out"), or the seat left its domain and the account is a
    domain account (unjoined, the seat can no longer authenticate it: pilot check)."""
    if state.get("locked_out"):
        return "SeNetworkLogonRight removed"
    domain_accounts = ((state.get("domain") or {}).get("accounts") or {}).values()
    if state.get("domain_left") and state.get("connection_sid") in domain_accounts:
        return "the seat has left the domain of this domain account"
    return ""


def run(module_name: str, argument_spec: dict, handler, rules: dict | None = None) -> None:
    """Entry point of every stand-in module: check the arguments against the real
    module's options and argument rules (required_if, mutually_exclusive, ...: the
    module's RULES, checked against the real spec by tests/unit/test_windows_standins.py),
    log the call, answer from the seat's model."""
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **(rules or {}))
    state = _load()
    refused = _refused_logon(state)
    if refused:  # every WinRM task is a new logon of the connection account
        log(state, module_name, "refused_logon", {})
        _save(state)
        module.fail_json(msg=f"winrm: the connection account cannot log on: {refused}")
    state["_check_mode"] = module.check_mode
    op, result = handler(module.params, state)
    state.pop("_check_mode")
    secret = {k for k, v in argument_spec.items() if v.get("no_log")}
    log(state, module_name, op, {k: v for k, v in module.params.items() if v is not None and k not in secret})
    hang = state.get("hang_at") or {}
    if hang.get("op") == op and hang.get("arg", "") in json.dumps(module.params):
        # the controller is killed here: the test waits for this file
        del state["hang_at"]
        _save(state)
        write_file("hanging", b"")
        time.sleep(600)
    _save(state)
    failed = result.pop("failed", None)
    if failed and "msg" not in result:  # a module that fails without a msg (win_powershell on a throw)
        module.exit_json(failed=True, **result)
    if failed:
        module.fail_json(**result)
    if failed is False:  # said by the module itself (win_package on rc 3010): Ansible then ignores rc
        result["failed"] = False
    module.exit_json(**result)


def tar_members(name: str) -> dict[str, bytes]:
    with tarfile.open(name, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def make_tar(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
