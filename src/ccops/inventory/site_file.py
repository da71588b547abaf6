"""Parse one site file into a Site and its expanded hosts."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import Any, Literal, cast

from ccops.inventory import ranges
from ccops.inventory.fields import FieldReader, dotted
from ccops.inventory.host_paths import decommission_refusal
from ccops.inventory.model import (
    CONNECTION_TYPES,
    LIFECYCLE_STATES,
    OS_VARIANTS,
    ROLES,
    SECRET_KEYS,
    ConnectionProfile,
    Endpoint,
    Host,
    MaintenanceWindow,
    NodeSpec,
    SecretRef,
    Site,
)
from ccops.inventory.policy import ZONE_ID, deny_entries, parse_accounts, parse_management, parse_policies
from ccops.inventory.restore_cards import restore_card_problems
from ccops.inventory.variants import DAYS
from ccops.inventory.winrm import check_winrm_profile
from ccops.inventory.yamldoc import KeyPath, Problem, YamlDoc

MAX_HOSTS_PER_SITE = 50_000
# all patterns are used with fullmatch: "$" would let a trailing newline through
SITE_CODE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,15}")
HOST_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}")
WORD = re.compile(r"[a-z][a-z0-9_]{0,63}")
HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# login names as ssh and WinRM take them: user, DOMAIN\user or user@REALM
USER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@\\-]{0,127}")
# vars: cannot carry connection settings (those come from connections:) nor shadow what
# ccops computes; Ansible's own magic variable names are not data either
RESERVED_VAR_PREFIXES = ("ansible_", "ccops_")
RESERVED_VARS = frozenset(
    {
        "hostvars",
        "groups",
        "group_names",
        "inventory_hostname",
        "inventory_hostname_short",
        "inventory_dir",
        "inventory_file",
        "omit",
        "playbook_dir",
        "role_name",
        "role_path",
        "play_hosts",
        "environment",
        "vars",
        "lookup",
        "query",
        "q",
        "now",
        "undef",
    }
)
# host vars naming what decommission destroys (roles/decommission): checked by ccops.inventory.host_paths
DESTROYED_PATHS = ("decommission_data_paths", "decommission_certificates")
TOP_KEYS = ("site", "connections", "vars", "groups", "hosts", "policies", "accounts")
SITE_KEYS = (
    "code",
    "name",
    "city",
    "timezone",
    "maintenance_windows",
    "distribution_point",
    "backup_target",
    "rollout",
    "busy_check",
    "decommission",
    "patch_content",
    "management",
    "risk",
    "node",
    "quarantine",
    "subnets",
    "gateways",
    "remediate",
)
DECOMMISSION_KEYS = ("max_hosts", "end_state", "hooks")
END_STATES = ("power_off", "hand_back")
DEFAULT_DECOMMISSION_MAX_HOSTS = 10
NODE_KEYS = ("address", "port", "connection")
GROUP_KEYS = (
    "name",
    "role",
    "os",
    "business_line",
    "connection",
    "hosts",
    "addresses",
    "port",
    "asset_tags",
    "lifecycle",
    "vars",
)
OVERRIDE_KEYS = ("address", "port", "lifecycle", "retired_on", "asset_tag", "mac", "connection", "vars")
# when a host left service (ccops decommission writes it, quoted: YAML 1.1 reads a bare date as a timestamp)
ISO_DATE = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
CONNECTION_KEYS = (
    "type",
    "port",
    "user",
    "transport",
    "cert_validation",
    "password",
    "become",
    "become_password",
    "key_file",
    "known_hosts",
    "dns_domain",
    "ca_file",
    "cert_file",
    "cert_key_file",
)
DNS_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+", re.IGNORECASE)
# Literal types let these names index a ConnectionProfile in a loop
PATH_KEYS: tuple[Literal["key_file", "known_hosts", "ca_file", "cert_file", "cert_key_file"], ...] = (
    "key_file",
    "known_hosts",
    "ca_file",
    "cert_file",
    "cert_key_file",
)
WINRM_TRANSPORTS = ("kerberos", "ntlm", "credssp", "certificate")
# when a host is held apart automatically (ccops quarantine evaluate); absent: never
QUARANTINE_KEYS = ("out_of_policy_days", "vuln_urgency", "reverted", "decommission_guard")
VULN_URGENCIES = ("low", "medium", "high", "emergency", "critical")  # lowest first
ROLLOUT_KEYS = ("canary", "waves", "batch_size", "max_fail_percentage", "max_failures")
# early-warning thresholds (ccops risks, ccops report): key, type, lowest, highest; defaults in ccops.report.risks
RISK_LIMITS: tuple[tuple[str, type, float, float], ...] = (
    ("security_pending_days", int, 0, 3650),
    ("disk_used_pct", float, 1, 100),
    ("disk_growth_pct_per_day", float, 0, 100),
    ("not_seen_days", int, 1, 3650),
    ("runs_days", int, 1, 3650),
    # a fix a content snapshot holds, not installed this many days (per urgency; defaults in ccops.vulns.risks)
    ("vuln_critical_days", float, 0, 3650),
    ("vuln_emergency_days", float, 0, 3650),
    ("vuln_high_days", float, 0, 3650),
    ("vuln_medium_days", float, 0, 3650),
    ("vuln_low_days", float, 0, 3650),
)


def parse_site(doc: YamlDoc) -> tuple[Site | None, list[Host], list[Problem]]:
    reader = FieldReader(doc)
    data = doc.data
    if not isinstance(data, dict):
        reader.report((), "a site file is a mapping with keys: " + ", ".join(TOP_KEYS))
        return None, [], reader.problems
    reader.only_keys(data, (), TOP_KEYS)
    site = _site(reader, data)
    site.connections = _connections(reader, data.get("connections", {}))
    site.vars = _vars(reader, data, ())
    site.node = _node(reader, site, (data.get("site") or {}) if isinstance(data.get("site"), dict) else {})
    hosts = _groups(reader, site, data.get("groups"))
    _overrides(reader, site, data.get("hosts", {}), hosts)
    group_names = {h.group for h in hosts.values()} | _group_names(data.get("groups"))
    site.policies = parse_policies(reader, data.get("policies", []), group_names)
    site.denies = deny_entries(reader, data.get("policies", []))
    site.accounts = parse_accounts(reader, data.get("accounts", []), group_names, site.connections)
    reader.problems += restore_card_problems(doc, site, hosts.values())
    # a site without a usable code is validated in full but not loaded
    return (site if site.code else None), list(hosts.values()), reader.problems


def _group_names(raw: Any) -> set[str]:
    """Group names as written, valid or not: a policy naming one is checked against them."""
    if not isinstance(raw, list):
        return set()
    return {g["name"] for g in raw if isinstance(g, dict) and isinstance(g.get("name"), str)}


def _site(reader: FieldReader, data: dict[str, Any]) -> Site:
    raw = reader.get(data, (), "site", dict, required=True) or {}
    kp = ("site",)
    reader.only_keys(raw, kp, SITE_KEYS)
    code = reader.get(raw, kp, "code", str, required=True)
    if code is not None and not SITE_CODE.fullmatch(code):
        reader.report((*kp, "code"), f"site.code: {code!r} must be a letter then up to 15 letters, digits or '-'")
        code = None
    timezone = reader.get(raw, kp, "timezone", str, required=True)
    if timezone is not None and not _known_timezone(timezone):
        reader.report((*kp, "timezone"), f"site.timezone: unknown time zone {timezone!r} (e.g. Asia/Shanghai)")
    return Site(
        code=code or "",
        name=reader.get(raw, kp, "name", str, default="") or "",
        city=reader.get(raw, kp, "city", str, required=True) or "",
        timezone=timezone or "UTC",
        file=reader.doc.path,
        maintenance_windows=_windows(reader, raw.get("maintenance_windows", []), (*kp, "maintenance_windows")),
        distribution_point=_endpoint(reader, raw, kp, "distribution_point"),
        backup_target=_endpoint(reader, raw, kp, "backup_target"),
        rollout=_rollout(reader, raw.get("rollout", {}), (*kp, "rollout")),
        busy_check=_busy_check(reader, raw.get("busy_check", {}), (*kp, "busy_check")),
        decommission=_decommission(reader, raw.get("decommission", {}), (*kp, "decommission")),
        management=parse_management(reader, raw.get("management", []), (*kp, "management")),
        risk=_risk(reader, raw.get("risk", {}), (*kp, "risk")),
        patch_content=_patch_content(reader, raw.get("patch_content", {}), (*kp, "patch_content")),
        quarantine=_quarantine(reader, raw, kp),
        subnets=parse_management(reader, raw.get("subnets", []), (*kp, "subnets")),
        gateways=parse_management(reader, raw.get("gateways", []), (*kp, "gateways")),
        remediate=_remediate(reader, raw.get("remediate", {}), (*kp, "remediate")),
    )


def _quarantine(reader: FieldReader, site: dict[str, Any], kp: KeyPath) -> dict[str, Any]:
    """When a host is held apart; a held host admits only site.management (and the site's node, point
    and backup target), so a site that holds hosts must name its management addresses."""
    raw, qkp = site.get("quarantine", {}), (*kp, "quarantine")
    if not reader.valid(raw, qkp, dict):
        return {}
    reader.only_keys(raw, qkp, QUARANTINE_KEYS)
    out: dict[str, Any] = {}
    days = reader.get(raw, qkp, "out_of_policy_days", int)
    if days is not None and not 0 <= days <= 3650:
        reader.report(
            (*qkp, "out_of_policy_days"), f"{dotted((*qkp, 'out_of_policy_days'))}: {days} is not between 0 and 3650"
        )
    elif days is not None:
        out["out_of_policy_days"] = days
    urgency = reader.get(raw, qkp, "vuln_urgency", str, choices=VULN_URGENCIES)
    if urgency is not None:
        out["vuln_urgency"] = urgency
    for key in ("reverted", "decommission_guard"):
        if reader.get(raw, qkp, key, bool):
            out[key] = True
    if out and not site.get("management"):
        reader.report(qkp, f"{dotted(qkp)}: a held host admits only site.management: declare it first")
        return {}
    return out


def _patch_content(reader: FieldReader, raw: Any, kp: KeyPath) -> dict[str, Any]:
    """Approved content (ccops content): a snapshot this many days old counts as approved without a change."""
    if not reader.valid(raw, kp, dict):
        return {}
    reader.only_keys(raw, kp, ("approve_after_days",))
    days = reader.get(raw, kp, "approve_after_days", int)
    if days is not None and not 0 <= days <= 365:
        where = (*kp, "approve_after_days")
        reader.report(where, f"{dotted(where)}: {days} is not between 0 and 365")
        return {}
    return {} if days is None else {"approve_after_days": days}


def _remediate(reader: FieldReader, raw: Any, kp: KeyPath) -> dict[str, Any]:
    """ccops remediate: a fix of this urgency counts as approved by rule this many days after it was offered;
    unattended: a schedule may run it."""
    if not reader.valid(raw, kp, dict):
        return {}
    reader.only_keys(raw, kp, ("auto_approve", "unattended"))
    out: dict[str, Any] = {}
    if reader.get(raw, kp, "unattended", bool):
        out["unattended"] = True
    rules, akp = raw.get("auto_approve", {}), (*kp, "auto_approve")
    if not reader.valid(rules, akp, dict):
        return out
    reader.only_keys(rules, akp, VULN_URGENCIES)
    days = {u: reader.get(rules, akp, u, int) for u in VULN_URGENCIES}
    for urgency, value in days.items():
        if value is not None and not 0 <= value <= 365:
            reader.report((*akp, urgency), f"{dotted((*akp, urgency))}: {value} is not between 0 and 365")
        elif value is not None:
            out.setdefault("auto_approve", {})[urgency] = value
    return out


def _node(reader: FieldReader, site: Site, raw: dict[str, Any]) -> NodeSpec | None:
    """``site.node``: a host name of the inventory (checked against it in load.py), or
    ``{address, port, connection}`` with one of this site's ssh connection profiles."""
    kp: KeyPath = ("site", "node")
    if "node" not in raw:
        return None
    value, line = raw["node"], reader.doc.line(*kp)
    if isinstance(value, str):
        if not HOST_NAME.fullmatch(value):
            reader.report(kp, f"site.node: {value!r} is not a host name")
            return None
        return NodeSpec(host=value, line=line)
    if not reader.valid(value, kp, dict):
        return None
    reader.only_keys(value, kp, NODE_KEYS)
    address = reader.get(value, kp, "address", str, required=True)
    if address is not None and not _is_address(address):
        reader.report((*kp, "address"), f"site.node.address: {address!r} is not an IP address or a host name")
        address = None
    connection = reader.get(value, kp, "connection", str, required=True)
    profile = site.connections.get(connection or "")
    if connection is not None and profile is None:
        reader.report((*kp, "connection"), f"site.node.connection: no connection profile {connection!r}")
    elif profile is not None and profile["type"] != "ssh":
        reader.report((*kp, "connection"), f"site.node.connection: {connection!r} is not an ssh profile")
        profile = None
    port = _port(reader, value, kp)
    if address is None or profile is None:
        return None
    return NodeSpec(address=address, port=port, connection=connection, line=line)


def _is_address(text: str) -> bool:
    if "%" in text:  # a zone id: see ccops.inventory.policy.ZONE_ID
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return bool(HOST_NAME.fullmatch(text))
    return True


def _risk(reader: FieldReader, raw: Any, kp: KeyPath) -> dict[str, float]:
    """The site's early-warning thresholds; absent keys take ccops.report.risks.RISK_DEFAULTS."""
    if not reader.valid(raw, kp, dict):
        return {}
    reader.only_keys(raw, kp, tuple(key for key, *_ in RISK_LIMITS))
    out: dict[str, float] = {}
    for key, kind, low, high in RISK_LIMITS:
        value = reader.get(raw, kp, key, kind)
        if value is None:
            continue
        if not low <= value <= high:  # also refuses .nan and .inf
            reader.report((*kp, key), f"{dotted((*kp, key))}: {value!r} is not between {low:g} and {high:g}")
            continue
        out[key] = value
    return out


def _endpoint(reader: FieldReader, raw: dict[str, Any], kp: KeyPath, key: str) -> Endpoint:
    """A site service: the host that offers it and the folder it keeps things in."""
    value = reader.get(raw, kp, key, dict, default={})
    ekp = (*kp, key)
    reader.only_keys(value, ekp, ("host", "path", "url"))
    out = Endpoint()
    host = reader.get(value, ekp, "host", str)
    if host is not None and not HOST_NAME.fullmatch(host):
        reader.report((*ekp, "host"), f"{dotted((*ekp, 'host'))}: {host!r} is not a host name")
    elif host is not None:
        out["host"] = host
    path = _path_value(reader, value, ekp, "path")
    if path is not None:
        if not path.startswith("/") or "/../" in f"{path}/":
            reader.report((*ekp, "path"), f"{dotted((*ekp, 'path'))}: an absolute folder without '..'")
        else:
            out["path"] = path
    url = _url(reader, value, ekp, "url")
    if url is not None:
        out["url"] = url
    return out


def _path_value(reader: FieldReader, mapping: dict[str, Any], kp: KeyPath, key: str) -> str | None:
    """A file or folder name: any printable text except the quote ssh's own quoting uses."""
    value = reader.get(mapping, kp, key, str)
    if value is None:
        return None
    if not value or not value.isprintable() or '"' in value or len(value) > 4096:
        reader.report(
            (*kp, key), f"{dotted((*kp, key))}: {value!r} is not a usable path (printable characters, no double quote)"
        )
        return None
    return value


def _url(reader: FieldReader, mapping: dict[str, Any], kp: KeyPath, key: str) -> str | None:
    value = reader.get(mapping, kp, key, str)
    if value is None:
        return None
    if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[\x21-\x7e]*)?", value):
        reader.report((*kp, key), f"{dotted((*kp, key))}: {value!r} is not an http(s) URL")
        return None
    return value


def _port(reader: FieldReader, mapping: dict[str, Any], kp: KeyPath, default: int | None = None) -> int | None:
    value = reader.get(mapping, kp, "port", int)
    if value is None:
        return default
    if not 1 <= value <= 65535:
        reader.report((*kp, "port"), f"{dotted((*kp, 'port'))}: {value} is not a TCP port (1-65535)")
        return default
    return value


def _busy_check(reader: FieldReader, raw: Any, kp: KeyPath) -> dict[str, Any]:
    """How to tell whether an agent is logged in or on a call before touching a seat."""
    if not reader.valid(raw, kp, dict):
        return {}
    reader.only_keys(raw, kp, ("command", "url"))
    if len(raw) > 1:
        reader.report(kp, f"{dotted(kp)}: either command (run on the seat, exit 0 = free) or url, not both")
    command = reader.get(raw, kp, "command", list)
    if command is not None and (not command or not all(isinstance(a, str) for a in command)):
        reader.report((*kp, "command"), f"{dotted((*kp, 'command'))}: a command is a list of words, e.g. [test, ...]")
    _url(reader, raw, kp, "url")
    return raw


def _decommission(reader: FieldReader, raw: Any, kp: KeyPath) -> dict[str, Any]:
    """How this site retires hosts: the most hosts one run may take, the end state, the hooks to run."""
    if not reader.valid(raw, kp, dict):
        return {}
    reader.only_keys(raw, kp, DECOMMISSION_KEYS)
    out: dict[str, Any] = {}
    cap = reader.get(raw, kp, "max_hosts", int)
    if cap is not None and not 1 <= cap <= 1000:
        reader.report((*kp, "max_hosts"), f"{dotted((*kp, 'max_hosts'))}: {cap} is not between 1 and 1000")
    elif cap is not None:
        out["max_hosts"] = cap
    end_state = reader.get(raw, kp, "end_state", str, choices=END_STATES)
    if end_state is not None:
        out["end_state"] = end_state
    hooks = reader.get(raw, kp, "hooks", list)
    if hooks is not None:
        for i, hook in enumerate(hooks):
            if not (isinstance(hook, list) and hook and all(isinstance(a, str) and a for a in hook)):
                reader.report(
                    (*kp, "hooks", i),
                    f"{dotted((*kp, 'hooks', i))}: a hook is a list of words run on the host, e.g. [/usr/sbin/x, y]",
                )
        out["hooks"] = hooks
    return out


def _known_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _windows(reader: FieldReader, raw: Any, kp: KeyPath) -> list[MaintenanceWindow]:
    if not reader.valid(raw, kp, list):
        return []
    out: list[MaintenanceWindow] = []
    for i, window in enumerate(raw):
        wkp = (*kp, i)
        if not reader.valid(window, wkp, dict):
            continue
        reader.only_keys(window, wkp, ("days", "start", "end"))
        days = reader.get(window, wkp, "days", list, default=list(DAYS))
        for j, day in enumerate(days):
            reader.check(day, (*wkp, "days", j), str, DAYS)
        times: dict[str, str | None] = {}
        for key in ("start", "end"):
            value = reader.get(window, wkp, key, str, required=True)
            if value is not None and not HHMM.fullmatch(value):
                reader.report((*wkp, key), f"{dotted((*wkp, key))}: {value!r} is not a time HH:MM")
            times[key] = value
        out.append(MaintenanceWindow(days=days, start=times["start"], end=times["end"]))
    return out


def _rollout(reader: FieldReader, raw: Any, kp: KeyPath) -> dict[str, Any]:
    if not reader.valid(raw, kp, dict):
        return {}
    reader.only_keys(raw, kp, ROLLOUT_KEYS)
    out: dict[str, Any] = {}
    for key, kind, low, high in (
        ("canary", int, 0, MAX_HOSTS_PER_SITE),
        ("batch_size", int, 1, MAX_HOSTS_PER_SITE),
        ("max_failures", int, 0, MAX_HOSTS_PER_SITE),
        ("max_fail_percentage", float, 0, 100),
    ):
        value = reader.get(raw, kp, key, kind)
        if value is None:
            continue
        # "not low <= value <= high" also catches .nan, which compares false with everything
        if not low <= value <= high:
            reader.report((*kp, key), f"{dotted((*kp, key))}: {value!r} is not between {low} and {high}")
            continue
        out[key] = value
    waves = reader.get(raw, kp, "waves", list)
    if waves is not None:
        for i, wave in enumerate(waves):
            if not (isinstance(wave, str) and re.fullmatch(r"\d{1,3}%", wave) and 0 < int(wave[:-1]) <= 100):
                reader.report((*kp, "waves", i), f'{dotted((*kp, "waves", i))}: a wave is a percentage like "25%"')
        out["waves"] = waves
    return out


def _secret(reader: FieldReader, raw: Any, kp: KeyPath) -> SecretRef | None:
    if isinstance(raw, str):
        reader.report(
            kp, (f"{dotted(kp)}: secrets are never written into the inventory; use {{env: VARIABLE}} or {{file: PATH}}")
        )
        return None
    if not reader.valid(raw, kp, dict):
        return None
    if len(raw) != 1 or next(iter(raw)) not in ("env", "file") or not isinstance(next(iter(raw.values())), str):
        reader.report(kp, f"{dotted(kp)}: a secret reference is {{env: VARIABLE}} or {{file: PATH}}")
        return None
    if "env" in raw and not ENV_NAME.fullmatch(raw["env"]):
        reader.report((*kp, "env"), f"{dotted((*kp, 'env'))}: {raw['env']!r} is not an environment variable name")
        return None
    if "file" in raw and _path_value(reader, raw, kp, "file") is None:
        return None
    return cast(SecretRef, raw)  # checked above: one key, env or file, holding text


def _dns_domain(reader: FieldReader, profile: dict[str, Any], pkp: KeyPath) -> str | None:
    """WinRM hosts' DNS domain: Kerberos reaches a host as NAME.DOMAIN, never by address."""
    domain = reader.get(profile, pkp, "dns_domain", str)
    if domain is not None and not DNS_DOMAIN.fullmatch(domain):
        reader.report((*pkp, "dns_domain"), f"{dotted((*pkp, 'dns_domain'))}: {domain!r} is not a DNS domain")
        return None
    return domain


def _connections(reader: FieldReader, raw: Any) -> dict[str, ConnectionProfile]:
    kp: KeyPath = ("connections",)
    if not reader.valid(raw, kp, dict):
        return {}
    out: dict[str, ConnectionProfile] = {}
    for name, profile in raw.items():
        pkp = (*kp, name)
        if not reader.valid(profile, pkp, dict):
            continue
        reader.only_keys(profile, pkp, CONNECTION_KEYS)
        ctype = reader.get(profile, pkp, "type", str, required=True, choices=CONNECTION_TYPES)
        conn: ConnectionProfile = {"type": ctype}
        port = _port(reader, profile, pkp)
        if port is not None:
            conn["port"] = port
        user = reader.get(profile, pkp, "user", str)
        if user is not None and not USER_NAME.fullmatch(user):
            reader.report((*pkp, "user"), f"{dotted((*pkp, 'user'))}: {user!r} is not a login name")
        elif user is not None:
            conn["user"] = user
        if reader.get(profile, pkp, "become", bool):
            conn["become"] = True
        for key in PATH_KEYS:
            value = _path_value(reader, profile, pkp, key)
            if value is not None:
                conn[key] = value
        domain = _dns_domain(reader, profile, pkp)
        if domain is not None:
            conn["dns_domain"] = domain
        conn["transport"] = reader.get(profile, pkp, "transport", str, default="kerberos", choices=WINRM_TRANSPORTS)
        conn["cert_validation"] = reader.get(
            profile, pkp, "cert_validation", str, default="validate", choices=("validate", "ignore")
        )
        for secret in SECRET_KEYS:
            if secret in profile:
                conn[secret] = _secret(reader, profile[secret], (*pkp, secret))
        out[name] = conn
    return out


def _vars(reader: FieldReader, mapping: dict[str, Any], kp: KeyPath, family: str | None = None) -> dict[str, Any]:
    """A ``vars:`` mapping; ``family`` is the OS family of the hosts it applies to (None: both)."""
    raw = reader.get(mapping, kp, "vars", dict, default={})
    for key in raw:
        where = (*kp, "vars", key)
        if key in DESTROYED_PATHS:
            _destroyed_paths(reader, raw[key], where, family, certificate=key == "decommission_certificates")
        if not WORD.fullmatch(key):
            reader.report(where, f"{dotted(where)}: variable names are lower_snake_case")
        elif key.startswith(RESERVED_VAR_PREFIXES) or key in RESERVED_VARS:
            reader.report(
                where,
                f"{dotted(where)}: {key!r} is reserved: connection settings belong under "
                "connections:, ccops_* and Ansible's own names are set by ccops",
            )
    return raw


def _groups(reader: FieldReader, site: Site, raw: Any) -> dict[str, Host]:
    kp: KeyPath = ("groups",)
    hosts: dict[str, Host] = {}
    if raw is None:
        reader.report((), "groups: required (a list of host groups)")
        return hosts
    if not reader.valid(raw, kp, list):
        return hosts
    names: set[str | None] = set()
    for i, group in enumerate(raw):
        gkp = (*kp, i)
        if not reader.valid(group, gkp, dict):
            continue
        reader.only_keys(group, gkp, GROUP_KEYS)
        name = reader.get(group, gkp, "name", str, required=True)
        if name in names:
            reader.report((*gkp, "name"), f"{dotted((*gkp, 'name'))}: group {name!r} appears twice in this site")
        names.add(name)
        for host in _group_hosts(reader, site, group, gkp, name or f"group{i}"):
            if host.name in hosts:
                reader.report(
                    (*gkp, "hosts"),
                    f"{dotted((*gkp, 'hosts'))}: host {host.name} is already in "
                    f"group {hosts[host.name].group} of this site",
                )
                continue
            hosts[host.name] = host
    return hosts


def _destroyed_paths(reader: FieldReader, value: Any, kp: KeyPath, family: str | None, *, certificate: bool) -> None:
    """What decommission wipes or removes: checked here, before any plan shows it or a host sees it."""
    if not reader.valid(value, kp, list):
        return
    for i, entry in enumerate(value):
        why = decommission_refusal(entry, family, certificate=certificate)
        if why:
            reader.report((*kp, i), f"{dotted((*kp, i))}: {why}")


def _group_hosts(reader: FieldReader, site: Site, group: dict[str, Any], gkp: KeyPath, gname: str) -> list[Host]:
    role = reader.get(group, gkp, "role", str, required=True, choices=ROLES)
    os_variant = reader.get(group, gkp, "os", str, required=True, choices=tuple(OS_VARIANTS))
    line = reader.get(group, gkp, "business_line", str, required=True)
    if line is not None and not WORD.fullmatch(line):
        reader.report((*gkp, "business_line"), f"{dotted((*gkp, 'business_line'))}: use lower_snake_case")
        line = None
    connection = reader.get(group, gkp, "connection", str, required=True)
    if connection is not None and connection not in site.connections:
        reader.report(
            (*gkp, "connection"),
            f"{dotted((*gkp, 'connection'))}: no connection profile {connection!r} under connections:",
        )
        connection = None
    lifecycle = reader.get(group, gkp, "lifecycle", str, default="active", choices=LIFECYCLE_STATES)
    port = _port(reader, group, gkp)
    group_vars = _vars(reader, group, gkp, OS_VARIANTS.get(os_variant or ""))
    names = _names(reader, group, gkp)
    addresses = _addresses(reader, group, gkp, len(names))
    tags = _tags(reader, group, gkp, len(names))
    if role is None or os_variant is None or line is None or connection is None or not names:
        return []
    profile = site.connections[connection]
    if profile["type"] == "winrm":  # the first host stands for its group: the same profile, addresses alike
        for problem in check_winrm_profile(profile, names[0], addresses[0]):
            reader.report((*gkp, "connection"), f"{dotted((*gkp, 'connection'))}: {problem}")
    src = (reader.doc.path, reader.doc.line(*gkp, "hosts"))
    return [
        Host(
            name=n,
            site=site.code,
            group=gname,
            role=role,
            os=os_variant,
            business_line=line,
            lifecycle=lifecycle,
            connection=connection,
            address=addresses[i],
            port=port,
            asset_tag=tags[i],
            vars=dict(group_vars),
            source=src,
        )
        for i, n in enumerate(names)
    ]


def _names(reader: FieldReader, group: dict[str, Any], gkp: KeyPath) -> list[str]:
    raw = reader.get(group, gkp, "hosts", object, required=True)
    patterns = [raw] if isinstance(raw, str) else raw
    if not isinstance(patterns, list):
        reader.report((*gkp, "hosts"), f"{dotted((*gkp, 'hosts'))}: a host name, a range or a list of them")
        return []
    names: list[str] = []
    for j, pattern in enumerate(patterns):
        pkp = (*gkp, "hosts") if isinstance(raw, str) else (*gkp, "hosts", j)
        if not reader.valid(pattern, pkp, str):
            continue
        if len(names) + ranges.count(pattern) > MAX_HOSTS_PER_SITE:
            reader.report(pkp, f"{dotted(pkp)}: {pattern} makes more than {MAX_HOSTS_PER_SITE} hosts in one site")
            return []
        try:
            expanded = ranges.expand(pattern)
        except ranges.RangeError as exc:
            reader.report(pkp, f"{dotted(pkp)}: {exc}")
            continue
        bad = [n for n in expanded if not HOST_NAME.fullmatch(n)]
        if bad:
            reader.report(pkp, f"{dotted(pkp)}: {bad[0]!r} is not a valid host name")
            continue
        names.extend(expanded)
    return names


def _addresses(reader: FieldReader, group: dict[str, Any], gkp: KeyPath, count: int) -> list[str | None]:
    start = reader.get(group, gkp, "addresses", str)
    if start is None:
        return [None] * count
    if "%" in start:
        reader.report((*gkp, "addresses"), f"{dotted((*gkp, 'addresses'))}: {start!r}: {ZONE_ID}")
        return [None] * count
    try:
        first = ipaddress.ip_address(start)
        if first.version == 4:  # plain int arithmetic: 3,200 ip_address objects cost 30 ms
            base = int(first)
            return [".".join(map(str, (base + i).to_bytes(4, "big"))) for i in range(count)]
        return [str(first + i) for i in range(count)]
    except (ValueError, OverflowError):
        reader.report(
            (*gkp, "addresses"),
            f"{dotted((*gkp, 'addresses'))}: {start!r} is not a first IP address "
            "(hosts get consecutive addresses from it)",
        )
        return [None] * count


def _tags(reader: FieldReader, group: dict[str, Any], gkp: KeyPath, count: int) -> Sequence[str | None]:
    pattern = reader.get(group, gkp, "asset_tags", str)
    if pattern is None:
        return [None] * count
    try:
        tags = ranges.expand(pattern) if ranges.count(pattern) <= MAX_HOSTS_PER_SITE else []
    except ranges.RangeError as exc:
        reader.report((*gkp, "asset_tags"), f"{dotted((*gkp, 'asset_tags'))}: {exc}")
        return [None] * count
    if len(tags) != count:
        reader.report((*gkp, "asset_tags"), f"{dotted((*gkp, 'asset_tags'))}: {len(tags)} tags for {count} hosts")
        return [None] * count
    return tags


def _overrides(reader: FieldReader, site: Site, raw: Any, hosts: dict[str, Host]) -> None:
    kp: KeyPath = ("hosts",)
    if not reader.valid(raw, kp, dict):
        return
    for name, override in raw.items():
        hkp = (*kp, name)
        if not reader.valid(override, hkp, dict):
            continue
        host = hosts.get(name)
        if host is None:
            reader.report(hkp, f"hosts.{name}: not in any group of this site")
            continue
        reader.only_keys(override, hkp, OVERRIDE_KEYS)
        host.source = (reader.doc.path, reader.doc.line(*hkp))
        if "address" in override:
            address = reader.get(override, hkp, "address", str)
            if address and "%" in address:
                reader.report((*hkp, "address"), f"hosts.{name}.address: {address!r}: {ZONE_ID}")
                address = None
            try:
                host.address = str(ipaddress.ip_address(address)) if address else host.address
            except ValueError:
                reader.report((*hkp, "address"), f"hosts.{name}.address: {address!r} is not an IP address")
        host.port = _port(reader, override, hkp, default=host.port)
        host.lifecycle = reader.get(override, hkp, "lifecycle", str, default=host.lifecycle, choices=LIFECYCLE_STATES)
        host.asset_tag = reader.get(override, hkp, "asset_tag", str, default=host.asset_tag)
        retired_on = reader.get(override, hkp, "retired_on", str)
        if retired_on is not None and not ISO_DATE.fullmatch(retired_on):
            reader.report((*hkp, "retired_on"), f'hosts.{name}.retired_on: {retired_on!r} is not a date "YYYY-MM-DD"')
        mac = reader.get(override, hkp, "mac", str)
        if mac is not None and not MAC.fullmatch(mac):
            reader.report((*hkp, "mac"), f"hosts.{name}.mac: {mac[:40]!r} is not a MAC address like 52:54:00:0a:0b:0c")
        elif mac is not None:
            host.mac = mac
        connection = reader.get(override, hkp, "connection", str, default=host.connection)
        if connection not in site.connections:
            reader.report((*hkp, "connection"), f"hosts.{name}.connection: no profile {connection!r}")
        else:
            host.connection = connection
        host.vars.update(_vars(reader, override, hkp, host.os_family))
