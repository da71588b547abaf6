# Contract tests only: models of the scripts the comply and decommission paths run through
# win_powershell (the win_powershell stand-in tries these before its own). Each gets the
# seat's state and the script's parameters and returns (result, output) like the stand-in's
# own models; RuntimeError is a terminating error.
from __future__ import annotations

ADMINS = "S-1-5-32-544"


def _admin_group(state):
    return next(iter(state.get("groups", {})), "Administrators")


def _adspath(state, sid):
    for name, user in state.get("local_users", {}).items():
        if user["sid"] == sid:
            return f"WinNT://WORKGROUP/{state['computer']}/{name}"
    for name, dsid in (state.get("domain") or {}).get("accounts", {}).items():
        if dsid == sid:
            return "WinNT://" + name.replace("\\", "/")
    return f"WinNT://{sid}"  # ADSI's path of a member whose account no longer resolves


def comply_facts(state, p):
    """roles/comply/files/comply_state.ps1: raw facts only."""
    group = _admin_group(state)
    members = [{"sid": sid, "adspath": _adspath(state, sid)} for sid in state["groups"][group]]
    services = [
        {"name": name, "status": s.get("status", "Running"), "start_type": s.get("start_type", "Automatic")}
        for name, s in state.get("services", {}).items()
        if name in (p.get("Services") or [])
    ]
    rules = [
        {k: v for k, v in r.items() if k != "grouping"}
        for r in state.get("firewall_rules", [])
        if r["grouping"] == "ccops comply"
    ]
    users = [
        {"name": n, "sid": u["sid"], "enabled": u["enabled"], "full_name": u["full_name"]}
        for n, u in state.get("local_users", {}).items()
    ]
    facts = {
        "computer": state["computer"],
        "usb_start": state.get("usb_start"),
        "inactivity_timeout": state.get("inactivity_timeout"),
        "winrm": {"AllowBasic": None, "AllowUnencryptedTraffic": None},
        "hosts_lines": state.get("hosts_lines", []),
        "firewall_profiles": state.get("firewall_profiles", []),
        "firewall_rules": rules,
        "services": services,
        "local_users": users,
        "admin_group": {"name": group, "members": members},
    }
    return facts, []


def comply_state_7aee806(state, p):
    """The comply_state.ps1 of commit 7aee806, which decided on the seat: Get-LocalGroupMember
    fails on an orphaned SID; otherwise names (not SIDs) to add and remove."""
    group = _admin_group(state)
    local = {u["sid"]: n for n, u in state.get("local_users", {}).items()}
    if any(_adspath(state, sid) == f"WinNT://{sid}" for sid in state["groups"][group]):
        raise RuntimeError("Failed to compare two elements in the array.")  # Get-LocalGroupMember on an orphan
    policy = p["Policy"]
    deviations, out = [], {}
    accounts = policy.get("accounts") or {}
    users = state.get("local_users", {})
    fix = [a["name"] for a in accounts.get("present", []) if a["name"] not in users or not users[a["name"]]["enabled"]]
    deviations += [{"policy": "accounts", "detail": f"{n} is missing"} for n in fix]
    members = [local[s] for s in state["groups"][group] if s in local and not s.endswith("-500")]
    admins = [a["name"] for a in accounts.get("present", []) if a.get("admin")]
    out["admins_to_remove"] = [m for m in members if m not in admins and m not in p.get("KeepAdmins", [])]
    out["admins_to_add"] = [a for a in admins if a not in members]
    deviations += [{"policy": "local_admins", "detail": n} for n in out["admins_to_remove"] + out["admins_to_add"]]
    out.update(accounts_to_fix=fix, accounts_to_revoke=[], stale_rules=[])
    checked = ["accounts", "local_admins", "revoked_accounts"] if accounts.get("managed") else []
    if policy.get("firewall"):
        checked.append("firewall")
        names = {r["name"] for r in state.get("firewall_rules", []) if r["grouping"] == "ccops comply"}
        wanted = [f"ccops comply allow {i + 1}" for i in range(len(policy["firewall"].get("allow", [])))]
        deviations += [{"policy": "firewall", "detail": f"rule '{n}' is missing"} for n in wanted if n not in names]
    return {**out, "deviations": deviations, "checked": checked}, []


def part_of_domain_7aee806(state, p):
    return {"domain": bool(state.get("domain"))}, []


def _under(path, root):
    return path.lower().startswith(root.lower().rstrip("\\") + "\\")


def _is_link(node):
    return "junction" in node or "link" in node


def wipe(state, p):
    """roles/decommission/files/wipe_windows.ps1: the lists the controller decided, nothing else."""
    tree = state.setdefault("tree", {})
    refused = [path for path in p.get("Paths") or [] if _is_link(tree.get(path, {}))]
    failed = []
    for name in p.get("Files") or []:
        if any(_under(name, r) for r in refused):
            continue
        node = tree.pop(name, None)
        if node is None or "size" not in node:
            failed.append({"file": name, "reason": "Could not find file"})
            continue
        state.setdefault("overwritten", []).append(name)
        for other in node.get("hardlinks", []):  # the same data under another name: zeroed too
            state.setdefault("zeroed_elsewhere", []).append(other)
    for name in (p.get("Links") or []) + (p.get("Folders") or []):
        if any(_under(name, r) for r in refused):
            continue
        if not _is_link(tree.get(name, {})) and any(_under(other, name) for other in tree):
            failed.append({"file": name, "reason": "The directory is not empty."})
            continue
        tree.pop(name, None)
    left = {}
    for path in p.get("Paths") or []:
        seen = tree.get(path, {}).get("junction") or path  # through a junction, its target's entries
        left[path] = sum(1 for other in tree if _under(other, seen))
    state.setdefault("wiped", []).extend(p.get("Paths") or [])
    return {"failed": failed, "refused": refused, "left": left}, []


def sanitise_7aee806(state, p):
    """The inline wipe of commit 7aee806: Get-ChildItem -Recurse and Remove-Item -Recurse in
    Windows PowerShell 5.1 go through a junction into its target; cipher /w once per path."""
    tree = state.setdefault("tree", {})
    results = []
    for path in p.get("Paths") or []:
        if p.get("CheckOnly"):
            continue
        doomed = [other for other in tree if _under(other, path)]
        for link in [d for d in doomed if "junction" in tree[d]]:
            doomed += [other for other in tree if _under(other, tree[link]["junction"])]
        for name in set(doomed):
            tree.pop(name, None)
        state.setdefault("cipher_runs", []).append(path)
        results.append(
            {
                "path": path,
                "method": "NIST SP 800-88 Rev. 1 Clear",
                "files": len(doomed),
                "bytes": 0,
                "result": "passed",
                "verification": "read back as zeros before removal; 0 item(s) left",
            }
        )
    state.setdefault("wiped", []).extend(p.get("Paths") or [])
    return results, []


def delete_key(state, p):
    """roles/decommission/files/delete_certificate_key.ps1: one certificate's private key."""
    cert = state.get("certificates", {}).get(p["Thumbprint"].upper())
    result = {"found": cert is not None, "had_key": bool(cert and cert.get("key")), "deleted": False}
    if result["had_key"]:
        state.setdefault("deleted_keys", []).append(cert.pop("key"))
        result["deleted"] = True
    return result, []


SCRIPTS = [
    ("PersistKeyInCsp", "certificate.key_delete", delete_key),
    ("HNetCfg.FwPolicy2", "comply.facts", comply_facts),
    ("Get-LocalGroupMember", "comply.state", comply_state_7aee806),
    ("PartOfDomain", "domain.read", part_of_domain_7aee806),
    ("[string[]]$Links", "wipe", wipe),
    ("NIST SP 800-88", "sanitise", sanitise_7aee806),
]
READ_ONLY = ("comply.facts", "comply.state", "domain.read")
