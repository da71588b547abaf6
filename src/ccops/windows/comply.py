"""ccops comply on Windows: what a seat deviates in and what a fix changes, decided on the controller.

The seat only gathers raw facts (roles/comply/files/comply_state.ps1, JSON); this module
compares them with the host's policy (ccops_comply) and names one action per object:
which firewall rules to (re)write or drop, which accounts to create, which members to
add to or take from the local Administrators group (by SID, so an orphaned SID or a
name in another language never confuses it). The filter plugin
roles/comply/filter_plugins/ccops_win_comply.py exposes :func:`decide`.

Everything in ``facts`` comes from the host: it is parsed against the shape below and a
fact that does not fit raises :class:`DamagedFacts` (the host fails with that one line).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ccops.windows.facts import DamagedFacts, boolean, integer, items, text, texts

ADMINS_SID = "S-1-5-32-544"
RULE_GROUP = "ccops comply"
# win_firewall_rule / HNetCfg.FwPolicy2 codes, as the gather script returns them
DIRECTIONS = {"in": 1, "out": 2}
ACTIONS = {"block": 0, "allow": 1}
PROTOCOLS = {"tcp": 6, "udp": 17}
ALL_PROFILES = 0x7FFFFFFF  # domain + private + public, as the firewall stores it
HOSTS_LINE = re.compile(r"^\s*0\.0\.0\.0\s+(\S+)")
SID = re.compile(r"S-1-\d+(-\d+){1,14}")

__all__ = ["DamagedFacts", "decide", "wanted_rules"]


def decide(policy: dict[str, Any], facts: Any, keep_admins: list[str]) -> dict[str, Any]:
    """Deviations (policy, detail), the policies checked, and what a fix must change."""
    if not isinstance(facts, dict):
        raise DamagedFacts("the seat's comply facts are not a JSON object")
    out: dict[str, Any] = {"deviations": [], "checked": []}

    def deviate(name: str, detail: str) -> None:
        out["deviations"].append({"policy": name, "detail": detail})

    _settings(policy, facts, deviate, out)
    if policy.get("firewall"):
        out["checked"].append("firewall")
        _firewall(policy["firewall"], facts, deviate, out)
    if policy.get("services"):
        out["checked"].append("services")
        _services(policy["services"], facts, deviate)
    accounts = policy.get("accounts") or {}
    if accounts.get("managed"):
        out["checked"].extend(["accounts", "local_admins", "revoked_accounts"])
        _accounts(accounts, facts, deviate, out)
        _admins(accounts, facts, keep_admins, deviate, out)
    return out


def _settings(policy: dict[str, Any], facts: dict[str, Any], deviate: Any, out: dict[str, Any]) -> None:
    """Single values: USB storage, blocked sites, screen lock, WinRM hardening."""
    if policy.get("usb_storage"):
        out["checked"].append("usb_storage")
        want = 4 if policy["usb_storage"] == "blocked" else 3
        have = integer(facts, "usb_start", optional=True)
        if have != want:
            deviate("usb_storage", f"USBSTOR Start is {have}, the policy says {want}")
    if policy.get("blocked_sites") is not None:
        out["checked"].append("blocked_sites")
        blocked = {m.group(1).lower() for line in texts(facts, "hosts_lines") if (m := HOSTS_LINE.match(line))}
        for name in policy["blocked_sites"]:
            if name.lower() not in blocked:
                deviate("blocked_sites", f"hosts file does not block {name}")
    if policy.get("screen_lock"):
        out["checked"].append("screen_lock")
        have = integer(facts, "inactivity_timeout", optional=True)
        want = int(policy["screen_lock"]["idle_seconds"])
        if have != want:
            deviate("screen_lock", f"InactivityTimeoutSecs is {have}, the policy says {want}")
    if policy.get("winrm"):
        out["checked"].append("winrm")
        winrm = facts.get("winrm")
        if not isinstance(winrm, dict):
            raise DamagedFacts("winrm: not a JSON object")
        for key, value_name in (("allow_basic", "AllowBasic"), ("allow_unencrypted", "AllowUnencryptedTraffic")):
            if key in policy["winrm"]:
                want = int(bool(policy["winrm"][key]))
                have = integer(winrm, value_name, optional=True)
                if have != want:
                    deviate("winrm", f"WinRM {value_name} is {have}, the policy says {want}")


def wanted_rules(firewall: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules the policy asks for, with the values win_firewall_rule takes and the firewall stores."""
    rules = []
    for number, allow in enumerate(firewall.get("allow") or [], start=1):
        rules.append(
            {
                "name": f"{RULE_GROUP} allow {number}",
                "direction": "in",
                "action": "allow",
                "protocol": allow["proto"],
                "localport": ",".join(str(p) for p in allow["ports"]),
                "remoteip": ",".join(allow["from"]) if allow.get("from") else "any",
            }
        )
    if firewall.get("deny"):
        for direction in ("in", "out"):
            rules.append(
                {
                    "name": f"{RULE_GROUP} deny {direction}",
                    "direction": direction,
                    "action": "block",
                    "protocol": "any",
                    "localport": "any",
                    "remoteip": ",".join(firewall["deny"]),
                }
            )
    return rules


def _firewall(firewall: dict[str, Any], facts: dict[str, Any], deviate: Any, out: dict[str, Any]) -> None:
    for profile in items(facts, "firewall_profiles"):
        name = text(profile, "name")
        enabled, inbound = boolean(profile, "enabled"), text(profile, "inbound")
        if not enabled or inbound != "Block":
            deviate("firewall", f"profile {name}: enabled {enabled}, inbound {inbound}; the policy says enabled, block")
    found = {text(rule, "name"): rule for rule in items(facts, "firewall_rules")}
    wanted = wanted_rules(firewall)
    out["rules_to_set"] = []
    for rule in wanted:
        have = found.get(rule["name"])
        if have is None:
            deviate("firewall", f"rule '{rule['name']}' is missing")
            out["rules_to_set"].append(rule)
            continue
        differences = _rule_differences(rule, have)
        if differences:
            deviate("firewall", f"rule '{rule['name']}' differs from the policy: {'; '.join(differences)}")
            out["rules_to_set"].append(rule)
    names = {r["name"] for r in wanted}
    out["stale_rules"] = sorted(n for n in found if n not in names)
    for name in out["stale_rules"]:
        deviate("firewall", f"rule '{name}' is not in the policy")


def _rule_differences(want: dict[str, Any], have: dict[str, Any]) -> list[str]:
    """What the rule on the seat does differently from the rule wanted (not its name: its effect)."""
    problems = []
    if integer(have, "direction") != DIRECTIONS[want["direction"]]:
        problems.append("direction")
    if integer(have, "action") != ACTIONS[want["action"]]:
        problems.append("action")
    if not boolean(have, "enabled"):
        problems.append("disabled")
    if integer(have, "profiles") not in (ALL_PROFILES, 7):
        problems.append("not every profile")
    protocol = integer(have, "protocol")
    if protocol != PROTOCOLS.get(want["protocol"], 256):
        problems.append(f"protocol {protocol}")
    if _ports(text(have, "local_ports")) != _ports(want["localport"]):
        problems.append(f"local ports {text(have, 'local_ports')!r}")
    if _addresses(text(have, "remote_addresses")) != _addresses(want["remoteip"]):
        problems.append(f"remote addresses {text(have, 'remote_addresses')!r}")
    return problems


def _ports(value: str) -> frozenset[str] | None:
    value = value.strip()
    if value in ("", "*") or value.lower() == "any":
        return None
    return frozenset(p.strip() for p in value.split(",") if p.strip())


def _addresses(value: str) -> frozenset[str] | None:
    """Addresses as the firewall means them: '*' or 'any' is any; 10.1.0.0/255.255.0.0 is 10.1.0.0/16."""
    value = value.strip()
    if value in ("", "*") or value.lower() == "any":
        return None
    out = set()
    for raw in value.split(","):
        part = raw.strip()
        try:
            if "-" in part:
                low, high = (ipaddress.ip_address(p) for p in part.split("-", 1))
                out.add(f"{low}-{high}" if low != high else str(low))
            else:
                net = ipaddress.ip_network(part, strict=False)
                out.add(str(net.network_address) if net.num_addresses == 1 else str(net))
        except ValueError:
            out.add(part.lower())  # a keyword such as LocalSubnet: compared as written
    return frozenset(out)


def _services(services: list[str], facts: dict[str, Any], deviate: Any) -> None:
    found = {text(s, "name").lower(): s for s in items(facts, "services")}
    for name in services:
        service = found.get(name.lower())
        if service is None:
            deviate("services", f"{name} is not installed")
        elif text(service, "status") != "Running":
            deviate("services", f"{name} is not running")
        elif text(service, "start_type") != "Automatic":
            deviate("services", f"{name} starts {text(service, 'start_type')}, not automatically")


def _accounts(accounts: dict[str, Any], facts: dict[str, Any], deviate: Any, out: dict[str, Any]) -> None:
    """Declared accounts: created when missing (disabled: ccops never enables one), full name
    corrected; revoked accounts that are enabled get disabled."""
    users = {text(u, "name").lower(): u for u in items(facts, "local_users")}
    out["accounts_to_create"], out["accounts_to_correct"], out["accounts_to_revoke"] = [], [], []
    for account in accounts.get("present") or []:
        user = users.get(account["name"].lower())
        want = account.get("comment", "")
        if user is None:
            deviate("accounts", f"{account['name']} is missing")
            out["accounts_to_create"].append(account["name"])
        elif text(user, "full_name") != want:
            deviate(
                "accounts", f"{account['name']}: full name is {text(user, 'full_name')!r}, the inventory says {want!r}"
            )
            out["accounts_to_correct"].append(account["name"])
    for name in accounts.get("revoked") or []:
        user = users.get(name.lower())
        if user is not None and boolean(user, "enabled"):
            deviate("revoked_accounts", f"{name} is revoked but its account is enabled")
            out["accounts_to_revoke"].append(text(user, "name"))


def _admins(
    accounts: dict[str, Any], facts: dict[str, Any], keep_admins: list[str], deviate: Any, out: dict[str, Any]
) -> None:
    """Local Administrators, by SID: local accounts the inventory does not make administrators are
    taken out (never RID 500 nor the connection account); domain members and SIDs no local account
    has are left alone (a domain SID may only be unreachable)."""
    users = {text(u, "name").lower(): u for u in items(facts, "local_users")}
    local_sids = {text(u, "sid"): text(u, "name") for u in users.values()}
    group = facts.get("admin_group")
    if not isinstance(group, dict):
        raise DamagedFacts("admin_group: not a JSON object")
    out["admin_group"] = group_name = text(group, "name")
    admins = {a["name"].lower(): a["name"] for a in accounts.get("present") or [] if a.get("admin")}
    keep = {_local_part(k, text(facts, "computer")) for k in keep_admins if k}
    members = []
    for member in items(group, "members"):
        sid = text(member, "sid")
        if not SID.fullmatch(sid):
            raise DamagedFacts(f"admin_group.members: {sid[:40]!r} is not a SID")
        members.append((sid, text(member, "adspath")))
    present = {local_sids[sid].lower() for sid, _ in members if sid in local_sids}
    out["admins_to_remove"] = []
    for sid, _ in members:
        name = local_sids.get(sid)
        if name is None or sid.endswith("-500") or name.lower() in admins or name.lower() in keep:
            continue
        deviate("local_admins", f"{name} is in {group_name} but the inventory does not make it a local administrator")
        out["admins_to_remove"].append({"name": name, "member": sid})
    out["admins_to_add"] = []
    for lower, name in admins.items():
        if lower not in present:
            deviate("local_admins", f"{name} is a local administrator in the inventory but not in {group_name}")
            user = users.get(lower)
            out["admins_to_add"].append({"name": name, "member": text(user, "sid") if user else f".\\{name}"})
    out["unresolved_admin_sids"] = [
        sid for sid, path in members if path.rsplit("/", 1)[-1] == sid and sid not in local_sids
    ]


def _local_part(account: str, computer: str) -> str:
    """The name a local account has for 'user', '.\\user' or 'THISHOST\\user'; a domain account keeps
    its domain ('DOM\\user' and 'user@realm' never match a local 'user')."""
    name = account.strip().lower()
    for prefix in (".\\", *([computer.lower() + "\\"] if computer else [])):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name
