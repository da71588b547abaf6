# Contract-test stand-in for ansible.windows.win_powershell: recognises each
# script ccops runs and answers as that script would on the modelled seat
# (output, result, error, host_out, host_err, as the module returns them). A
# script it does not know fails, so a new script needs a model here too.
from __future__ import annotations

import json
import os

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import (
    make_tar,
    member_of,
    package_list,
    run,
    tar_members,
    write_file,
)
from ansible_collections.ansible.windows.plugins.module_utils.fakewin_scripts import (
    READ_ONLY as SEAT_SCRIPTS_READ_ONLY,
)
from ansible_collections.ansible.windows.plugins.module_utils.fakewin_scripts import (
    SCRIPTS as SEAT_SCRIPTS,
)

# HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid of a modelled seat (win_reg_stat answers the same)
DEFAULT_MACHINE_GUID = "6f1c2a9e-3b7d-4e15-9a42-0c8d5e7b1f30"

SPEC = {
    "script": {"type": "str"},
    "path": {"type": "str"},
    "parameters": {"type": "dict"},
    "arguments": {"type": "list", "elements": "str"},
    "chdir": {"type": "str"},
    "creates": {"type": "str"},
    "removes": {"type": "str"},
    "depth": {"type": "int", "default": 2},
    "error_action": {"type": "str", "choices": ["silently_continue", "continue", "stop"], "default": "continue"},
    "executable": {"type": "str"},
    "sensitive_parameters": {"type": "list", "elements": "dict"},
}


RULES = {"required_one_of": [["path", "script"]], "mutually_exclusive": [["path", "script"]]}


def _uwf_read(state, p):
    uwf = state.get("uwf")
    return {"present": bool(uwf), "current": bool(uwf and uwf["current"]), "next": bool(uwf and uwf["next"])}, []


def _uwf_set(state, p):
    state["uwf"]["next"] = bool(p["Enable"])
    return {}, []


def _backup(state, p):
    folder = p["Folder"]
    if state.get("fail", {}).get("archive"):
        # tar.exe has already created the archive (and the metadata beside it) when it exits
        # non-zero on a file it cannot read: a partial archive is left on the seat
        write_file(folder + "\\archive.tar.gz", b"partial")
        raise RuntimeError(state["fail"]["archive"])
    members = {
        "ccops/hotfixes.json": json.dumps([{"HotFixID": kb} for kb in state["hotfixes"]]).encode(),
        "ccops/packages.json": state["backup_packages_json"].encode()
        if "backup_packages_json" in state  # a damaged list, as a test sets it
        else package_list(state).encode(),
        "ccops/programs.json": b"[]",
    }
    for path in p["Paths"] or []:
        members[member_of(path)] = state["paths"][path].encode()
    write_file(folder + "\\archive.tar.gz", make_tar(members))
    return {"machine_id": state.get("machine_guid", DEFAULT_MACHINE_GUID)}, []


def _uninstall(state, p):
    """The restore script of 7aee806, kept so a test can show its harm on that checkout. In
    Windows PowerShell 5.1 `ConvertFrom-Json` sends a JSON array down the pipeline as one
    object, so `| ForEach-Object PackageName` gives @($null): the guard passes and every
    installed package counts as new."""
    members = tar_members(p["Folder"] + "\\archive.tar.gz")
    parsed = json.loads(members["ccops/packages.json"])
    before = [None] if isinstance(parsed, list) else [parsed.get("PackageName")]
    if not before:
        raise RuntimeError("the backup lists no installed package: refusing to treat every package as new")
    removed, not_removed, failed, reboot = [], [], [], False
    for name in [n for n in state["packages"] if n not in before]:
        if name.startswith("Package_for_ServicingStack"):
            not_removed.append({"name": name, "reason": "servicing stack update: Windows cannot remove it"})
            continue
        code = state.get("dism_exit", {}).get(name, 3010)
        if code in (0, 3010):
            removed.append(name)
            state.setdefault("pending_removals", []).append(name)
            reboot = reboot or code == 3010
        elif code == -2146498523:
            not_removed.append({"name": name, "reason": "permanent package (0x800f0825): Windows cannot remove it"})
        else:
            failed.append({"name": name, "reason": f"DISM exit {code}"})
    if removed and not reboot:  # removed at once
        for name in state.pop("pending_removals"):
            state["packages"].remove(name)
    return {"removed": removed, "not_removed": not_removed, "failed": failed, "reboot_required": reboot}, []


def _restore_paths(state, p):
    members = tar_members(p["Folder"] + "\\archive.tar.gz")
    for path in p["Paths"]:
        state["paths"][path] = members[member_of(path)].decode()
    return {}, []


def _under(path, root):
    return path.lower().startswith(root.lower().rstrip("\\") + "\\")


def _restore_paths_recursing(state, p):
    """The restore script before 2026-12 (Remove-Item -LiteralPath $full -Recurse -Force), kept so a
    test can show its harm on that checkout: Windows PowerShell 5.1's recursive Remove-Item enters
    a junction below the path and deletes what is in its target before the junction itself."""
    tree = state.get("tree") or {}
    for path in p["Paths"]:
        targets = [n["junction"] for q, n in tree.items() if _under(q, path) and "junction" in n]
        for name in [q for q in tree if q.lower() == path.lower() or _under(q, path)]:
            del tree[name]
        for name in [q for q in tree if any(_under(q, t) for t in targets)]:  # through the junction
            del tree[name]
    return _restore_paths(state, p)


def _restore_paths_fresh(state, p):
    """The restore script now: what the controller chose was removed before (win_file, one path
    each); a declared path still there would be merged into, so the script throws."""
    tree = state.get("tree") or {}
    left = [path for path in p["Paths"] if any(q.lower() == path.lower() or _under(q, path) for q in tree)]
    if left:
        raise RuntimeError(f"{left[0]} is still there: not restoring into it")
    return _restore_paths(state, p)


LOCKED_SDDL = "O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"


def _lock_folder(state, p):
    """roles/backup/files/lock_folder.ps1: the folder made when missing, its owner and access replaced.
    A seat whose lock does not take (a policy putting Users back) answers its own lock_sddl."""
    folder = p["Folder"]
    node = (state.get("tree") or {}).get(folder)
    if node and ("junction" in node or "link" in node):
        raise RuntimeError(f"{folder} is a link or junction: not locked")
    acls = state.setdefault("acls", {})  # a folder ccops made or locked (win_stat sees it)
    acls[folder] = state.get("lock_sddl", LOCKED_SDDL)
    return {"folder": folder, "sddl": acls[folder]}, []


SCRIPTS = [  # (a phrase only that script has, operation, model)
    *SEAT_SCRIPTS,
    ("SetAccessRuleProtection", "folder.lock", _lock_folder),
    ("Remove-Item -LiteralPath $full -Recurse", "restore.paths", _restore_paths_recursing),
    ("Invoke-CimMethod -InputObject $filter", "uwf.set", _uwf_set),
    ("UWF_Filter", "uwf.read", _uwf_read),
    ('tar.exe" @argv', "backup.archive", _backup),
    ("dism.exe", "restore.uninstall", _uninstall),
    ("Copy-Item -LiteralPath $staged", "restore.paths", _restore_paths_fresh),
    ("installed = @(Get-WindowsPackage", "packages.read", lambda s, p: ({"installed": s["packages"]}, [])),
    ("PackageState = [string]$_.PackageState } })\n", "packages.read", lambda s, p: (package_list(s), [])),
    ("Get-PSDrive", "free_space", lambda s, p: ({}, [s["free_mb"]])),
    ("WOW6432Node", "software", lambda s, p: ({}, [{"name": "Contoso Softphone", "version": "4.2"}])),
    (
        "Get-Volume",
        "volumes",
        lambda s, p: ({}, [{"mount": "C:", "size_mb": 238000, "free_mb": s["free_mb"], "used_pct": 50}]),
    ),
    ("Get-WinEvent", "events", lambda s, p: ({}, ["2026-11-01T02:00:00 System Service Control Manager: ..."])),
    # Get-NetNeighbor's objects as the asset script casts them: IPAddress, LinkLayerAddress, State as text
    ("Get-NetNeighbor", "neighbours", lambda s, p: ({}, list(s.get("neighbours", []))[:1024])),
]


READ_ONLY = (
    "uwf.read",
    "packages.read",
    "free_space",
    "software",
    "volumes",
    "events",
    "neighbours",
    *SEAT_SCRIPTS_READ_ONLY,
)


def handle(params, state):
    known = [(op, model) for phrase, op, model in SCRIPTS if phrase in params["script"]]
    if not known:
        return "unknown", {"failed": True, "msg": "contract model: unknown script", "output": [], "error": []}
    op, model = known[0]
    base = {
        "changed": op not in READ_ONLY,
        "host_out": "",
        "host_err": "",
        "error": [],
    }
    try:
        result, output = model(state, params["parameters"] or {})
    except RuntimeError as exc:  # a terminating error (throw): the module fails with no msg of its
        # own, the error record in `error` as win_powershell.ps1 formats it
        return op, {
            **base,
            "failed": True,
            "output": [],
            "result": {},
            "error": [
                {
                    "output": f"{exc}\r\n",
                    "error_details": None,
                    "exception": {"message": str(exc), "type": "System.Management.Automation.RuntimeException"},
                    "target_object": None,
                    "category_info": {"category": "OperationStopped", "reason": "RuntimeException"},
                    "fully_qualified_error_id": str(exc),
                    "script_stack_trace": "at <ScriptBlock>, <No file>",
                    "pipeline_iteration_info": [],
                }
            ],
        }
    return op, {**base, "output": output, "result": result}


if __name__ == "__main__":
    os.environ.setdefault("LANG", "C")
    run("win_powershell", SPEC, handle, RULES)
