"""A site file's policies and accounts: what `ccops comply` checks and enforces.

Everything here is data that reaches hosts as file contents, module arguments and
nftables set elements, never as a template or a shell word: every value is checked
against a strict shape, and what does not fit is a FILE:LINE problem.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ccops.inventory.fields import FieldReader, dotted
from ccops.inventory.model import OS_VARIANTS, ROLES, ConnectionProfile
from ccops.inventory.yamldoc import KeyPath

POLICY_KEYS = ("match", "usb_storage", "firewall", "blocked_sites", "screen_lock", "services", "ssh", "winrm")
MATCH_KEYS = ("roles", "os", "groups", "business_lines")
FIREWALL_KEYS = ("allow", "deny")
ALLOW_KEYS = ("ports", "proto", "from")
ACCOUNT_KEYS = ("name", "kind", "comment", "admin", "state", "match")
SSH_KEYS = {
    # site file key: (sshd keyword, allowed values)
    "permit_root_login": ("PermitRootLogin", ("no", "prohibit-password")),
    "password_authentication": ("PasswordAuthentication", (False,)),
    "kbd_interactive_authentication": ("KbdInteractiveAuthentication", (False,)),
    "x11_forwarding": ("X11Forwarding", (False, True)),
    "max_auth_tries": ("MaxAuthTries", range(1, 11)),
}
WINRM_KEYS = ("allow_basic", "allow_unencrypted")
# sources an allow rule admits, resolved from the inventory (ccops.inventory.compliance)
SOURCE_WORDS = ("management", "site")
SOURCE_PREFIXES = ("group", "role")
# account names both useradd and Windows take: no leading '-', no separators of /etc/passwd
ACCOUNT_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,19}")
RESERVED_ACCOUNTS = frozenset({"root", "daemon", "bin", "sys", "sync", "nobody", "administrator", "guest"})
SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")
# hosts-file names: DNS labels only, nothing a hosts file would read as a second entry
SITE_NAME = re.compile(r"(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.IGNORECASE)
PORT_RANGE = re.compile(r"(\d{1,5})-(\d{1,5})")
COMMENT_MAX = 128


def parse_management(reader: FieldReader, raw: Any, kp: KeyPath) -> list[str]:
    """site.management: the addresses (or networks) ccops and administrators come from."""
    if not reader.valid(raw, kp, list):
        return []
    out = []
    for i, value in enumerate(raw):
        network = _network(reader, value, (*kp, i))
        if network is not None:
            out.append(network)
    return out


def parse_policies(reader: FieldReader, raw: Any, group_names: set[str]) -> list[dict[str, Any]]:
    kp: KeyPath = ("policies",)
    if not reader.valid(raw, kp, list):
        return []
    out = []
    for i, entry in enumerate(raw):
        pkp = (*kp, i)
        if not reader.valid(entry, pkp, dict):
            continue
        reader.only_keys(entry, pkp, POLICY_KEYS)
        policy: dict[str, Any] = {"match": _match(reader, entry, pkp, group_names)}
        usb = reader.get(entry, pkp, "usb_storage", str, choices=("blocked", "allowed"))
        if usb is not None:
            policy["usb_storage"] = usb
        if "firewall" in entry:
            policy["firewall"] = _firewall(reader, entry["firewall"], (*pkp, "firewall"), group_names)
        if "blocked_sites" in entry:
            policy["blocked_sites"] = _words(reader, entry, pkp, "blocked_sites", SITE_NAME, "a DNS name")
        if "screen_lock" in entry:
            policy["screen_lock"] = _screen_lock(reader, entry["screen_lock"], (*pkp, "screen_lock"))
        if "services" in entry:
            policy["services"] = _words(reader, entry, pkp, "services", SERVICE_NAME, "a service name")
        if "ssh" in entry:
            policy["ssh"] = _ssh(reader, entry["ssh"], (*pkp, "ssh"))
        if "winrm" in entry:
            policy["winrm"] = _winrm(reader, entry["winrm"], (*pkp, "winrm"))
        out.append(policy)
    return out


def parse_accounts(
    reader: FieldReader, raw: Any, group_names: set[str], connections: dict[str, ConnectionProfile]
) -> list[dict[str, Any]]:
    kp: KeyPath = ("accounts",)
    if not reader.valid(raw, kp, list):
        return []
    connection_users = {p["user"].lower() for p in connections.values() if p.get("user")}
    seen: set[str] = set()
    out = []
    for i, entry in enumerate(raw):
        akp = (*kp, i)
        if not reader.valid(entry, akp, dict):
            continue
        reader.only_keys(entry, akp, ACCOUNT_KEYS)
        name = reader.get(entry, akp, "name", str, required=True)
        state = reader.get(entry, akp, "state", str, default="present", choices=("present", "revoked"))
        where = dotted((*akp, "name"))
        if name is None:
            continue
        if not ACCOUNT_NAME.fullmatch(name):
            reader.report((*akp, "name"), f"{where}: {name!r} is not an account name (a-z, 0-9, '_', '-'; max 20)")
            continue
        if name in RESERVED_ACCOUNTS:
            reader.report((*akp, "name"), f"{where}: {name!r} is a system account; ccops does not manage it")
            continue
        if name in seen:
            reader.report((*akp, "name"), f"{where}: account {name!r} appears twice in this site")
            continue
        seen.add(name)
        if state == "revoked" and name in connection_users:
            reader.report((*akp, "state"), f"{dotted((*akp, 'state'))}: {name!r} is the account ccops connects as")
            continue
        if entry.get("kind") == "service" and name in connection_users:
            reader.report(
                (*akp, "kind"),
                f"{dotted((*akp, 'kind'))}: {name!r} is the account ccops connects as; a service account "
                "has no login shell, so ccops could never log in again (did you mean kind: person?)",
            )
            continue
        comment = reader.get(entry, akp, "comment", str, default="")
        if len(comment) > COMMENT_MAX or ":" in comment or not comment.isprintable():
            reader.report(
                (*akp, "comment"),
                f"{dotted((*akp, 'comment'))}: printable text without ':' of at most {COMMENT_MAX} characters",
            )
            comment = ""
        out.append(
            {
                "name": name,
                "state": state,
                "kind": reader.get(entry, akp, "kind", str, default="person", choices=("person", "service")),
                "comment": comment,
                "admin": bool(reader.get(entry, akp, "admin", bool, default=False)) and state == "present",
                "match": _match(reader, entry, akp, group_names),
            }
        )
    return out


def _match(reader: FieldReader, entry: dict[str, Any], kp: KeyPath, group_names: set[str]) -> dict[str, list[str]]:
    raw = reader.get(entry, kp, "match", dict, default={})
    mkp = (*kp, "match")
    reader.only_keys(raw, mkp, MATCH_KEYS)
    known = {"roles": ROLES, "os": tuple(OS_VARIANTS), "groups": tuple(sorted(group_names)), "business_lines": None}
    out: dict[str, list[str]] = {}
    for key in MATCH_KEYS:
        values = reader.get(raw, mkp, key, list)
        if values is None:
            continue
        good = [v for j, v in enumerate(values) if reader.valid(v, (*mkp, key, j), str)]
        choices = known[key]
        for j, value in enumerate(good):
            if choices is not None and value not in choices:
                reader.report((*mkp, key, j), f"{dotted((*mkp, key, j))}: unknown {key[:-1]} {value!r}")
        out[key] = good
    return out


def _firewall(reader: FieldReader, raw: Any, kp: KeyPath, group_names: set[str]) -> dict[str, Any]:
    if not reader.valid(raw, kp, dict):
        return {"allow": [], "deny": []}
    reader.only_keys(raw, kp, FIREWALL_KEYS)
    allow = []
    for i, rule in enumerate(reader.get(raw, kp, "allow", list, default=[])):
        rkp = (*kp, "allow", i)
        if not reader.valid(rule, rkp, dict):
            continue
        reader.only_keys(rule, rkp, ALLOW_KEYS)
        proto = reader.get(rule, rkp, "proto", str, default="tcp", choices=("tcp", "udp"))
        ports = [
            p
            for j, p in enumerate(reader.get(rule, rkp, "ports", list, required=True) or [])
            if _port(reader, p, (*rkp, "ports", j))
        ]
        sources = reader.get(rule, rkp, "from", list, required=True) or []
        good = [s for j, s in enumerate(sources) if _source(reader, s, (*rkp, "from", j), group_names)]
        allow.append({"proto": proto, "ports": [str(p) for p in ports], "from": good})
    deny = [
        n
        for i, v in enumerate(reader.get(raw, kp, "deny", list, default=[]))
        if (n := _network(reader, v, (*kp, "deny", i)))
    ]
    return {"allow": allow, "deny": deny}


def deny_entries(reader: FieldReader, raw: Any) -> list[tuple[str, int, str]]:
    """Each usable deny entry of the site's policies with where it is written: (where, line, text as written)."""
    out = []
    for i, entry in enumerate(raw if isinstance(raw, list) else []):
        firewall = entry.get("firewall") if isinstance(entry, dict) else None
        deny = firewall.get("deny") if isinstance(firewall, dict) else None
        for j, value in enumerate(deny if isinstance(deny, list) else []):
            kp = ("policies", i, "firewall", "deny", j)
            if isinstance(value, str) and "%" not in value:
                try:
                    ipaddress.ip_network(value, strict=False)
                except ValueError:
                    continue
                out.append((dotted(kp), reader.doc.line(*kp), value))
    return out


def _port(reader: FieldReader, value: Any, kp: KeyPath) -> bool:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return True
    match = PORT_RANGE.fullmatch(value) if isinstance(value, str) else None
    if match and 1 <= int(match[1]) < int(match[2]) <= 65535:
        return True
    reader.report(kp, f'{dotted(kp)}: {value!r} is not a port (1-65535) or a range like "10000-20000"')
    return False


def _source(reader: FieldReader, value: Any, kp: KeyPath, group_names: set[str]) -> bool:
    if not reader.valid(value, kp, str):
        return False
    kind, _, name = value.partition(":")
    if value in SOURCE_WORDS or (kind == "group" and name in group_names) or (kind == "role" and name in ROLES):
        return True
    reader.report(
        kp,
        f"{dotted(kp)}: {value!r} names no hosts of this inventory; use management, site, "
        "group:NAME (a group of this site) or role:ROLE",
    )
    return False


# IPv6 zone ids ("fe80::1%eth0") are refused wherever the inventory holds an address, rather
# than accepted when they match an interface-name pattern: a zone names an interface of one
# machine (seats differ), nftables set elements and Windows Firewall rules take none, and the
# text after '%' is whatever Python's ipaddress lets through (newlines and quotes included).
ZONE_ID = "the IPv6 zone id (after '%') names one machine's interface; a site-wide address takes none"


def _network(reader: FieldReader, value: Any, kp: KeyPath) -> str | None:
    if not reader.valid(value, kp, str):
        return None
    if "%" in value:
        reader.report(kp, f"{dotted(kp)}: {value!r}: {ZONE_ID}")
        return None
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        reader.report(kp, f"{dotted(kp)}: {value!r} is not an IP address or network")
        return None


def _words(
    reader: FieldReader, entry: dict[str, Any], kp: KeyPath, key: str, shape: re.Pattern[str], what: str
) -> list[str]:
    out = []
    for i, value in enumerate(reader.get(entry, kp, key, list, default=[])):
        vkp = (*kp, key, i)
        if not reader.valid(value, vkp, str):
            continue
        if not shape.fullmatch(value):
            reader.report(vkp, f"{dotted(vkp)}: {value!r} is not {what}")
            continue
        out.append(value)
    return out


def _screen_lock(reader: FieldReader, raw: Any, kp: KeyPath) -> dict[str, int]:
    if not reader.valid(raw, kp, dict):
        return {}
    reader.only_keys(raw, kp, ("idle_minutes",))
    minutes = reader.get(raw, kp, "idle_minutes", int, required=True)
    if minutes is not None and not 1 <= minutes <= 120:
        reader.report((*kp, "idle_minutes"), f"{dotted((*kp, 'idle_minutes'))}: {minutes} is not 1-120 minutes")
        minutes = None
    return {"idle_seconds": minutes * 60} if minutes else {}


def _ssh(reader: FieldReader, raw: Any, kp: KeyPath) -> dict[str, Any]:
    if not reader.valid(raw, kp, dict):
        return {}
    reader.only_keys(raw, kp, tuple(SSH_KEYS))
    out: dict[str, Any] = {}
    for key, (keyword, allowed) in SSH_KEYS.items():
        if key not in raw:
            continue
        value = raw[key]
        kind = bool if isinstance(next(iter(allowed)), bool) else type(next(iter(allowed)))
        if not reader.valid(value, (*kp, key), kind) or value not in allowed:
            if isinstance(value, kind):
                reader.report((*kp, key), f"{dotted((*kp, key))}: {value!r} is not allowed here")
            continue
        out[keyword] = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    return out


def _winrm(reader: FieldReader, raw: Any, kp: KeyPath) -> dict[str, bool]:
    if not reader.valid(raw, kp, dict):
        return {}
    reader.only_keys(raw, kp, WINRM_KEYS)
    return {key: bool(v) for key in WINRM_KEYS if (v := reader.get(raw, kp, key, bool)) is not None}
