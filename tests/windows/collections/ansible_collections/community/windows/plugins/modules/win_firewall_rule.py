# Contract-test stand-in for community.windows.win_firewall_rule (options from
# win_firewall_rule.ps1). A rule is stored as HNetCfg.FwPolicy2 keeps it (what the comply
# facts read back): direction 1/2, action 0/1, protocol number (256 any), profiles bitmask,
# ports and addresses as text ('*' for any; a prefix as an address and a netmask).
from __future__ import annotations

import ipaddress

from ansible_collections.ansible.windows.plugins.module_utils.fakewin_rules import run_checked

SPEC = {
    "name": {"type": "str", "required": True},
    "description": {"type": "str"},
    "direction": {"type": "str", "choices": ["in", "out"]},
    "action": {"type": "str", "choices": ["allow", "block"]},
    "program": {"type": "str"},
    "group": {"type": "str"},
    "service": {"type": "str"},
    "enabled": {"type": "bool", "aliases": ["enable"]},
    "profiles": {"type": "list", "elements": "str", "aliases": ["profile"]},
    "localip": {"type": "str"},
    "remoteip": {"type": "str"},
    "localport": {"type": "str"},
    "remoteport": {"type": "str"},
    "protocol": {"type": "str"},
    "interfacetypes": {"type": "list", "elements": "str"},
    "edge": {"type": "str", "choices": ["no", "yes", "deferapp", "deferuser"]},
    "security": {"type": "str", "choices": ["notrequired", "authnoencap", "authenticate", "authdynenc", "authenc"]},
    "icmp_type_code": {"type": "list", "elements": "str"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
}
PROTOCOLS = {"tcp": 6, "udp": 17}
PROFILES = {"domain": 1, "private": 2, "public": 4}


def _addresses(value):
    if value in (None, "any"):
        return "*"
    out = []
    for part in value.split(","):
        net = ipaddress.ip_network(part, strict=False) if "-" not in part else None
        out.append(f"{net.network_address}/{net.netmask}" if net and net.num_addresses > 1 else part)
    return ",".join(out)


def handle(params, state):
    rules = state.setdefault("firewall_rules", [])
    existing = [r for r in rules if r["name"] == params["name"]]
    if params["state"] == "absent":
        for r in existing:
            rules.remove(r)
        return "win_firewall_rule.absent", {"changed": bool(existing)}
    mask = sum(PROFILES[p.lower()] for p in set(params["profiles"] or ["domain", "private", "public"]))
    rule = {
        "name": params["name"],
        "grouping": params["group"] or "",
        "direction": 1 if params["direction"] == "in" else 2,
        "action": 1 if params["action"] == "allow" else 0,
        "enabled": params["enabled"] is not False,
        "profiles": 0x7FFFFFFF if mask == 7 else mask,
        "protocol": PROTOCOLS.get((params["protocol"] or "any").lower(), 256),
        "local_ports": "*" if params["localport"] in (None, "any") else params["localport"],
        "remote_addresses": _addresses(params["remoteip"]),
    }
    if existing and existing[0] == rule:
        return "win_firewall_rule.present", {"changed": False}
    for r in existing:
        rules.remove(r)
    rules.append(rule)
    return "win_firewall_rule.present", {"changed": True}


if __name__ == "__main__":
    run_checked("win_firewall_rule", SPEC, handle)
