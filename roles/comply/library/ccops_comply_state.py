#!/usr/bin/python
"""Ansible module: compare a Debian host with its ccops policy; say every deviation and what the fix writes.

Read-only. One module call instead of dozens of tasks: a check of 2,500 seats is
one round trip per host. The policy arrives as module arguments (JSON), never as a
template or a shell line; every value is checked again here before it goes into a
file, and commands run as argument lists.
"""

from __future__ import annotations

import grp
import ipaddress
import os
import pwd
import re
import shutil
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: ccops_comply_state
short_description: Compare a Debian host with its ccops comply policy
description: Read-only; returns deviations (one per problem), the policies checked, and what a fix writes.
options:
  policy: {description: The host's resolved policy (ccops_comply)., type: dict, required: true}
  admin_group: {description: The local administrators' group., type: str, default: sudo}
  keep_admins: {description: Members of the admin group never removed (the account ccops connects as)., type: list, elements: str, default: []}
  controller: {description: Address this run's controller connects from (refuses a ruleset that locks it out)., type: str, default: ""}
  ssh_port: {description: The port ccops reaches sshd on., type: int, default: 22}
  state_dir: {description: Where ccops keeps what it applied., type: path, default: /var/lib/ccops/comply}
author: ccops
"""

USB_MODPROBE = "/etc/modprobe.d/ccops-usb-storage.conf"
USB_UDEV = "/etc/udev/rules.d/99-ccops-usb-storage.rules"
FIREWALL_FILE = "/etc/ccops/firewall.nft"
FIREWALL_UNIT = "/etc/systemd/system/ccops-firewall.service"
FIREWALL_WANTS = "/etc/systemd/system/sysinit.target.wants/ccops-firewall.service"
SSHD_DROPIN = "/etc/ssh/sshd_config.d/00-ccops-hardening.conf"
SUDOERS_DROPIN = "/etc/sudoers.d/ccops-admins"
DCONF_PROFILE = "/etc/dconf/profile/user"
DCONF_SETTINGS = "/etc/dconf/db/local.d/00-ccops-screen-lock"
DCONF_LOCKS = "/etc/dconf/db/local.d/locks/ccops-screen-lock"
HOSTS = "/etc/hosts"
HOSTS_BEGIN = "# BEGIN ccops comply: blocked sites"
HOSTS_END = "# END ccops comply: blocked sites"
HEADER = "# Written by ccops comply from the site's policy; ccops comply --fix rewrites it.\n"
NOLOGIN = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")
PORT = re.compile(r"\d{1,5}(-\d{1,5})?")
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")
ACCOUNT = re.compile(r"[a-z_][a-z0-9_-]{0,19}")
DNS = re.compile(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.IGNORECASE)


class Check:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.deviations: list[dict[str, str]] = []
        self.checked: list[str] = []
        self.files: list[dict[str, str]] = []  # what the fix writes: path, content, mode, validate
        self.absent: list[str] = []  # what the fix removes
        self.facts: dict[str, object] = {}

    def deviate(self, policy: str, detail: str) -> None:
        self.deviations.append({"policy": policy, "detail": detail})

    def want_file(self, policy: str, path: str, content: str, mode: str = "0644", validate: str = "") -> None:
        self.files.append({"policy": policy, "path": path, "content": content, "mode": mode, "validate": validate})
        current = _read(path)
        if current is None:
            self.deviate(policy, f"{path} is missing")
        elif current != content:
            self.deviate(policy, f"{path} differs from the policy")

    def want_absent(self, policy: str, path: str) -> None:
        if os.path.lexists(path):
            self.absent.append(path)
            self.deviate(policy, f"{path} is present but the policy allows it")

    def run(self, *argv: str) -> tuple[int, str, str]:
        return self.module.run_command(list(argv), check_rc=False)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return ""


def usb_storage(check: Check, value: str) -> None:
    check.checked.append("usb_storage")
    if value == "allowed":
        check.want_absent("usb_storage", USB_MODPROBE)
        check.want_absent("usb_storage", USB_UDEV)
        return
    modprobe = HEADER + "".join(f"install {m} /bin/false\nblacklist {m}\n" for m in ("usb-storage", "uas"))
    # interfaces of class 08 (mass storage) are never authorised, whichever driver would take them
    udev = (
        HEADER
        + 'ACTION=="add", SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_interface", ATTR{bInterfaceClass}=="08", ATTR{authorized}="0"\n'
    )
    check.want_file("usb_storage", USB_MODPROBE, modprobe)
    check.want_file("usb_storage", USB_UDEV, udev)


def _elements(addresses: list[str], version: int) -> list[str]:
    """Set elements of one IP version, each re-checked as an address, a range or a network."""
    out = []
    for item in addresses:
        parts = item.split("-") if "/" not in item else [item]
        try:
            parsed = [ipaddress.ip_network(p, strict=False) if "/" in p else ipaddress.ip_address(p) for p in parts]
        except ValueError:
            continue
        if len(parts) <= 2 and all(p.version == version for p in parsed):
            out.append("-".join(str(p) for p in parsed))
    return out


def input_rules(policy: dict) -> list[tuple[int, list[str], str, str, list[str]]]:
    """The address rules of the input chain in the order nftables meets them: the deny list first
    (every protocol), then each allow rule. (version, sources, verdict, proto, ports)."""
    rules = []
    for version in (4, 6):
        deny = _elements(policy.get("deny", []), version)
        if deny:
            rules.append((version, deny, "drop", "", []))
    for rule in policy.get("allow", []):
        proto = "udp" if rule.get("proto") == "udp" else "tcp"
        ports = [str(p) for p in rule.get("ports", []) if PORT.fullmatch(str(p))]
        for version in (4, 6):
            sources = _elements(rule.get("from", []), version)
            if ports and sources:
                rules.append((version, sources, "accept", proto, ports))
    return rules


def ruleset(policy: dict, site: str) -> str:
    """The ccops nftables table: inbound is an allow-list, deny lists drop both ways. Atomic with nft -f."""
    rules = ['iif "lo" accept', "ct state established,related accept", "ct state invalid drop"]
    out_rules = []
    address_rules = input_rules(policy)
    for version, sources, verdict, _proto, _ports in address_rules:
        if verdict == "drop":
            family = "ip" if version == 4 else "ip6"
            rules.append(f"{family} saddr {{ {', '.join(sources)} }} drop")
            out_rules.append(f"{family} daddr {{ {', '.join(sources)} }} reject")
    rules.append("icmp type { destination-unreachable, time-exceeded, parameter-problem } accept")
    # neighbour discovery: IPv6 does not work without it (58 = ipv6-icmp: names need /etc/protocols)
    rules.append("meta l4proto 58 accept")
    for version, sources, verdict, proto, ports in address_rules:
        if verdict == "accept":
            family = "ip" if version == 4 else "ip6"
            rules.append(f"{family} saddr {{ {', '.join(sources)} }} {proto} dport {{ {', '.join(ports)} }} accept")
    body = "".join(f"\t\t{r}\n" for r in rules)
    out_body = "".join(f"\t\t{r}\n" for r in out_rules)
    return (
        HEADER.replace("\n", f" Site {site}; addresses from the inventory.\n")
        + "table inet ccops {}\ndelete table inet ccops\n"  # replace the table in one transaction
        + "table inet ccops {\n"
        + "\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
        + body
        + "\t}\n\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n"
        + out_body
        + "\t}\n}\n"
    )


def admits(policy: dict, address: str, port: int) -> bool:
    """Whether a new TCP connection from this address reaches this port through the ruleset this
    module writes, read as nftables reads it: a denied address is dropped before any allow rule."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # how sshd shows an IPv4 client of a dual-stack socket
    for version, sources, verdict, proto, ports in input_rules(policy):
        if version != ip.version or not any(_address_in(ip, item) for item in sources):
            continue
        if verdict == "drop":
            return False
        if proto == "tcp" and any(_port_in(p, port) for p in ports):
            return True
    return False


def _port_in(spec: object, port: int) -> bool:
    low, _, high = str(spec).partition("-")
    return low.isdigit() and int(low) <= port <= int(high or low)


def _address_in(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, item: str) -> bool:
    try:
        if "/" in item:
            return ip in ipaddress.ip_network(item, strict=False)
        low, _, high = item.partition("-")
        first, last = ipaddress.ip_address(low), ipaddress.ip_address(high or low)
        return first.version == ip.version and int(first) <= int(ip) <= int(last)
    except ValueError:
        return False


def firewall(check: Check, policy: dict, site: str, controller: str, ssh_port: int, state_dir: str) -> None:
    check.checked.append("firewall")
    if not shutil.which("nft"):
        check.deviate("firewall", "nftables is not installed (package nftables)")
        return
    text = ruleset(policy, site)
    unit = (
        "[Unit]\nDescription=ccops comply firewall (nftables table inet ccops)\nDefaultDependencies=no\n"
        "Before=network-pre.target\nWants=network-pre.target\nAfter=local-fs.target\n\n"
        f"[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/usr/sbin/nft -f {FIREWALL_FILE}\n"
        "ExecStop=/usr/sbin/nft delete table inet ccops\n\n[Install]\nWantedBy=sysinit.target\n"
    )
    check.want_file("firewall", FIREWALL_FILE, text, "0600", "/usr/sbin/nft -c -f %s")
    check.want_file("firewall", FIREWALL_UNIT, unit)
    if not os.path.lexists(FIREWALL_WANTS):
        check.deviate("firewall", "ccops-firewall.service is not enabled (the ruleset would not survive a reboot)")
    rc, live, _ = check.run("nft", "list", "table", "inet", "ccops")
    applied = _read(os.path.join(state_dir, "firewall.listing"))
    if rc != 0:
        check.deviate("firewall", "table inet ccops is not loaded: every port is open to every address")
    elif (applied or "").strip() != live.strip():
        check.deviate("firewall", "the loaded ruleset differs from the one ccops applied (changed by hand?)")
    if controller and not admits(policy, controller, ssh_port):
        check.facts["firewall_lockout"] = (
            f"the ruleset would not admit this controller ({controller}) to SSH port {ssh_port} "
            "(a deny list is read before the allow-list): keep site.management out of deny, "
            "add its address to site.management and allow management on that port"
        )


def blocked_sites(check: Check, names: list[str]) -> None:
    check.checked.append("blocked_sites")
    names = [n.lower() for n in names if DNS.fullmatch(n)]
    want = [f"0.0.0.0 {n}" for n in names]
    text = _read(HOSTS) or ""
    lines = text.splitlines()
    block = (
        lines[lines.index(HOSTS_BEGIN) + 1 : lines.index(HOSTS_END)]
        if HOSTS_BEGIN in lines and HOSTS_END in lines
        else None
    )
    if block is None and want:
        check.deviate("blocked_sites", f"{HOSTS} blocks none of the {len(want)} sites")
    elif block is not None and block != want:
        missing = [w.split()[1] for w in want if w not in block]
        check.deviate(
            "blocked_sites",
            f"{HOSTS} does not block: {', '.join(missing)}"
            if missing
            else f"{HOSTS} blocks other sites than the policy",
        )
    check.facts["hosts_block"] = "\n".join(want)


def screen_lock(check: Check, value: dict) -> None:
    check.checked.append("screen_lock")
    seconds = int(value.get("idle_seconds", 600))
    check.facts["dconf_present"] = bool(shutil.which("dconf"))
    check.want_file("screen_lock", DCONF_PROFILE, "user-db:user\nsystem-db:local\n")
    check.want_file(
        "screen_lock",
        DCONF_SETTINGS,
        HEADER.replace("# ", "; ")
        + f"[org/gnome/desktop/session]\nidle-delay=uint32 {seconds}\n\n"
        + "[org/gnome/desktop/screensaver]\nlock-enabled=true\nlock-delay=uint32 0\nidle-activation-enabled=true\n",
    )
    check.want_file(
        "screen_lock",
        DCONF_LOCKS,
        "/org/gnome/desktop/session/idle-delay\n/org/gnome/desktop/screensaver/lock-enabled\n"
        "/org/gnome/desktop/screensaver/lock-delay\n",
    )


def services(check: Check, names: list[str]) -> None:
    check.checked.append("services")
    down = []
    for name in (n for n in names if WORD.fullmatch(n)):
        unit = name if "." in name else f"{name}.service"
        rc, load, _ = check.run("systemctl", "show", "--property=LoadState", "--value", "--", unit)
        if load.strip() != "loaded":
            check.deviate("services", f"{name} is not installed")
            continue
        if check.run("systemctl", "is-active", "--quiet", "--", unit)[0] != 0:
            check.deviate("services", f"{name} is not running")
            down.append(name)
        elif check.run("systemctl", "is-enabled", "--quiet", "--", unit)[0] != 0:
            check.deviate("services", f"{name} is not enabled (it would not start after a reboot)")
            down.append(name)
    check.facts["services_to_start"] = down


def ssh(check: Check, settings: dict) -> None:
    check.checked.append("ssh")
    if not os.path.exists("/usr/sbin/sshd"):
        return  # no SSH server, nothing to harden
    settings = {k: str(v) for k, v in settings.items() if WORD.fullmatch(k) and WORD.fullmatch(str(v))}
    check.want_file(
        "ssh",
        SSHD_DROPIN,
        HEADER + "".join(f"{k} {v}\n" for k, v in settings.items()),
        validate="/usr/sbin/sshd -t -f %s",
    )
    rc, out, err = check.run("/usr/sbin/sshd", "-T")
    if rc != 0:
        check.deviate("ssh", f"sshd -T failed: {(err or out).strip()[:200]}")
        return
    effective = dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
    for key, want in settings.items():
        have = effective.get(key.lower())
        if have != want.lower():
            check.deviate("ssh", f"sshd {key} is {have}, the policy says {want}")


def accounts(check: Check, spec: dict, admin_group: str, keep: list[str]) -> None:
    present = [a for a in spec.get("present", []) if ACCOUNT.fullmatch(a.get("name", ""))]
    revoked = [n for n in spec.get("revoked", []) if ACCOUNT.fullmatch(n)]
    check.checked += ["accounts", "local_admins", "revoked_accounts"]
    today = int(time.time() // 86400)
    shadow = _shadow()
    fix_accounts = []
    for account in present:
        name, shell = account["name"], "/bin/bash" if account.get("kind") == "person" else "/usr/sbin/nologin"
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            check.deviate("accounts", f"{name} is missing")
            fix_accounts.append(name)
            continue
        if entry.pw_gecos.split(",")[0] != account.get("comment", ""):
            check.deviate(
                "accounts", f"{name}: comment is {entry.pw_gecos!r}, the inventory says {account.get('comment', '')!r}"
            )
            fix_accounts.append(name)
        if entry.pw_shell != shell:
            check.deviate(
                "accounts", f"{name}: shell is {entry.pw_shell}, want {shell} for a {account.get('kind')} account"
            )
            fix_accounts.append(name)
        expire = shadow.get(name, "")
        if expire.isdigit() and int(expire) <= today:
            check.deviate("accounts", f"{name} is declared present but its account has expired")
            fix_accounts.append(name)
    try:
        members = set(grp.getgrnam(admin_group).gr_mem)
    except KeyError:
        members = set()
    admins = {a["name"] for a in present if a.get("admin")}
    extra = sorted(members - admins - set(keep)) if spec.get("managed") else []
    for name in extra:
        check.deviate(
            "local_admins", f"{name} is in group {admin_group} but the inventory does not make it a local administrator"
        )
    missing = sorted(admins - members)
    for name in missing:
        check.deviate(
            "local_admins", f"{name} is a local administrator in the inventory but not in group {admin_group}"
        )
    if admins or extra:
        check.want_file(
            "local_admins",
            SUDOERS_DROPIN,
            HEADER + f"%{admin_group} ALL=(ALL:ALL) ALL\n",
            "0440",
            "/usr/sbin/visudo -cf %s",
        )
    to_revoke = []
    for name in revoked:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue  # never created, or already deleted: revoked either way
        problems = []
        expire = shadow.get(name, "")
        if not (expire.isdigit() and int(expire) <= today):
            problems.append("has not expired")
        if entry.pw_shell not in NOLOGIN:
            problems.append(f"has login shell {entry.pw_shell}")
        groups = sorted(g.gr_name for g in grp.getgrall() if name in g.gr_mem)
        if groups:
            problems.append(f"is in group(s) {', '.join(groups)}")
        if problems:
            check.deviate("revoked_accounts", f"{name} is revoked but {'; '.join(problems)}")
            to_revoke.append(name)
    check.facts.update(
        accounts_to_fix=sorted(set(fix_accounts)),
        admins_to_add=missing,
        admins_to_remove=extra,
        accounts_to_revoke=to_revoke,
    )


def _shadow() -> dict[str, str]:
    """Account expiry (days since 1970, '' for never) by name, from /etc/shadow (spwd left Python 3.13)."""
    out = {}
    for line in (_read("/etc/shadow") or "").splitlines():
        fields = line.split(":")
        if len(fields) >= 8:
            out[fields[0]] = fields[7]
    return out


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "policy": {"type": "dict", "required": True},
            "admin_group": {"type": "str", "default": "sudo"},
            "keep_admins": {"type": "list", "elements": "str", "default": []},
            "controller": {"type": "str", "default": ""},
            "ssh_port": {"type": "int", "default": 22},
            "site": {"type": "str", "default": ""},
            "state_dir": {"type": "path", "default": "/var/lib/ccops/comply"},
        },
        supports_check_mode=True,
    )
    p = module.params
    policy = p["policy"]
    check = Check(module)
    if policy.get("usb_storage"):
        usb_storage(check, policy["usb_storage"])
    if policy.get("firewall") is not None:
        firewall(check, policy["firewall"], p["site"], p["controller"], p["ssh_port"], p["state_dir"])
    if policy.get("blocked_sites") is not None:
        blocked_sites(check, policy["blocked_sites"])
    if policy.get("screen_lock"):
        screen_lock(check, policy["screen_lock"])
    if policy.get("services"):
        services(check, policy["services"])
    if policy.get("ssh"):
        ssh(check, policy["ssh"])
    if policy.get("accounts", {}).get("managed"):
        accounts(check, policy["accounts"], p["admin_group"], p["keep_admins"])
    module.exit_json(
        changed=False,
        deviations=check.deviations,
        checked=check.checked,
        files=check.files,
        absent=check.absent,
        **check.facts,
    )


if __name__ == "__main__":
    main()
