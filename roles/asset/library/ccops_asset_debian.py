#!/usr/bin/python3
"""ccops_asset_debian: a Debian host's whole asset report in one module call (ccops inspect).

One call instead of a task per fact: OS, hardware, packages, pending updates, key services,
disks, recent log lines, the neighbour table and the golden image stamp, returned as ``ansible_facts.ccops_report``.
Package lists are refreshed only when older than ``max_age`` seconds (the host's configured
sources: its site's distribution point). When the installed package set's digest equals
``known_packages`` (the digest of the set ccops last stored for this host) the set is not sent
again: ``packages`` is then the text ``unchanged: <digest>`` and ccops fills in what it stored.
"""
import hashlib
import json
import os
import re
import subprocess
import time
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: ccops_asset_debian
short_description: Collect a Debian host's asset report for ccops in one call
options:
  variant: {type: str, required: true}
  services: {type: list, elements: str, default: []}
  log_lines: {type: int, default: 50}
  refresh: {type: bool, default: true}
  max_age: {type: int, default: 3600}
  stamp: {type: path, default: /var/lib/ccops/apt-lists-refreshed}
  known_packages: {type: str, default: ""}
"""

# "Inst NAME [OLD] (NEW ORIGIN, ORIGIN... [ARCH])": a version offered by several suites (a point
# release that carries a security fix) lists every origin; any -security one makes it a security update
INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) ([^)]*?)(?: \[[^\]]*\])?\)")
C_LOCALE = dict(os.environ, LC_ALL="C")


def run(argv):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=C_LOCALE, check=False)
    except OSError:
        return 127, ""
    return done.returncode, done.stdout


def read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().strip()
    except OSError:
        return default


def refresh_lists(stamp, max_age):
    """Refresh the package lists when the last refresh is older than max_age: (fresh, refreshed now)."""
    try:
        age = time.time() - os.stat(stamp).st_mtime
    except OSError:
        age = None
    if age is not None and 0 <= age < max_age:
        return True, False
    rc, _ = run(["apt-get", "update", "-qq"])
    if rc != 0:
        return False, False
    os.makedirs(os.path.dirname(stamp), mode=0o755, exist_ok=True)
    with open(stamp, "w", encoding="utf-8") as handle:
        handle.write(datetime.now(timezone.utc).isoformat() + "\n")
    return True, True


def updates():
    _, out = run(["apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"])
    return parse_simulation(out)


def parse_simulation(out):
    items = []
    for line in out.splitlines():
        match = INST.match(line)
        if match:
            name, old, new, origin = match.groups()
            items.append({"name": name, "from": old, "to": new, "origin": origin,
                          "security": "-security" in origin or "Debian-Security" in origin})
    return {"pending": len(items), "security": sum(i["security"] for i in items), "items": items}


def packages():
    """Installed packages, name -> version (a multi-arch package's first architecture)."""
    _, out = run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Abbrev}\n"])
    items = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2][1:2] == "i":
            items.setdefault(parts[0], parts[1])
    return items


def package_digest(items):
    """The digest ccops computes the same way over the set it stored (ccops.hostdata.asset)."""
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def services(units):
    """Key services in service_facts' shape; a unit the host does not have is left out."""
    if not units:
        return []
    _, out = run(["systemctl", "show", "--no-pager",
                  "--property=Id,LoadState,SubState,ActiveState,UnitFileState", "--", *units])
    found = []
    for block in out.strip().split("\n\n"):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        if props.get("LoadState") != "loaded" or not props.get("Id"):
            continue
        found.append({"name": props["Id"], "state": "running" if props.get("SubState") == "running" else "stopped",
                      "status": props.get("UnitFileState") or props.get("ActiveState") or "unknown",
                      "source": "systemd"})
    return found


def disks():
    _, out = run(["df", "-P", "-k", "-x", "tmpfs", "-x", "devtmpfs", "-x", "squashfs"])
    seen, rows = set(), []
    for line in out.splitlines()[1:]:
        parts = line.split()
        if (len(parts) < 6 or parts[5] in seen or not os.path.isdir(parts[5])
                or not parts[1].isdigit() or int(parts[1]) == 0):
            continue
        seen.add(parts[5])
        size, free = int(parts[1]) // 1024, int(parts[3]) // 1024
        rows.append({"mount": parts[5], "size_mb": size, "free_mb": free,
                     "used_pct": round(100 * (size - free) / size) if size else 0})
    return rows


def in_container():
    """systemd writes /run/systemd/container when it runs as a container's init; podman adds .containerenv."""
    return any(os.path.exists(p) for p in ("/run/systemd/container", "/run/.containerenv", "/.dockerenv"))


def uptime():
    """Seconds since boot; in a container, since its init started (it shares the machine's kernel).

    The container booted when its PID 1 started: field 22 of /proc/1/stat, in clock ticks since
    the kernel booted.
    """
    kernel_uptime = float(read("/proc/uptime", "0").split()[0])
    if not in_container():
        return int(kernel_uptime)
    fields = read("/proc/1/stat").rsplit(")", 1)[1].split()  # after the command name, fields start at 3
    started = int(fields[22 - 3]) / os.sysconf("SC_CLK_TCK")
    return max(0, int(kernel_uptime - started))


def virtualization():
    if os.path.exists("/run/.containerenv"):
        return "podman"
    if os.path.exists("/.dockerenv"):
        return "docker"
    kind = read("/run/systemd/container")
    if kind:
        return kind
    rc, out = run(["systemd-detect-virt", "--vm"])
    return out.strip() if rc == 0 and out.strip() != "none" else ""


def os_release():
    fields = {}
    for line in read("/etc/os-release").splitlines():
        key, _, value = line.partition("=")
        fields[key] = value.strip().strip('"')
    return fields


def os_facts(variant):
    release = os_release()
    debian_version = read("/etc/debian_version")
    version = debian_version if debian_version[:1].isdigit() else release.get("VERSION_ID", debian_version)
    return {"variant": variant, "family": "debian",
            "distribution": release.get("NAME", "Debian").split()[0] or "Debian",
            "version": version, "codename": release.get("VERSION_CODENAME", ""), "kernel": os.uname().release}


def hardware():
    meminfo = dict(line.split(":", 1) for line in read("/proc/meminfo").splitlines() if ":" in line)
    memory_kb = int((meminfo.get("MemTotal", "0").split() or ["0"])[0])
    return {"vendor": read("/sys/devices/virtual/dmi/id/sys_vendor") or "unknown",
            "product": read("/sys/devices/virtual/dmi/id/product_name") or "unknown",
            "cpus": os.cpu_count() or 1, "memory_mb": memory_kb // 1024, "virtualization": virtualization()}


def journal(lines):
    _, out = run(["journalctl", "--priority=warning", "--lines", str(lines), "--no-pager", "--output=short-iso"])
    return out.splitlines()


MAX_NEIGHBOURS = 1024  # ccops reads no more of one host's table


def neighbours():
    """The neighbour table as {address, mac, state}: ``ip -j neigh`` (IPv4 and IPv6), else /proc/net/arp.

    Only gathered here: ccops reads the addresses strictly and decides what is unknown.
    """
    rc, out = run(["ip", "-j", "neigh", "show"])
    if rc == 0:
        try:
            table = json.loads(out or "[]")
        except ValueError:
            table = None
        if isinstance(table, list):
            return [{"address": e.get("dst"), "mac": e.get("lladdr"), "state": ",".join(e.get("state") or [])}
                    for e in table[:MAX_NEIGHBOURS] if isinstance(e, dict)]
    return arp_table(read("/proc/net/arp"))


def arp_table(text):
    """/proc/net/arp: "IP HW-type Flags HW-address Mask Device"; flag 0x2 is a complete entry."""
    rows = []
    for line in text.splitlines()[1:MAX_NEIGHBOURS + 1]:
        parts = line.split()
        if len(parts) >= 4:
            complete = int(parts[2], 16) & 0x2 if re.fullmatch(r"0x[0-9a-fA-F]+", parts[2]) else 0
            rows.append({"address": parts[0], "mac": parts[3], "state": "reachable" if complete else "incomplete"})
    return rows


def image_stamp():
    try:
        with open("/etc/ccops/image.json", encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def report(params):
    fresh = params["refresh"] and refresh_lists(params["stamp"], params["max_age"])[0]
    items = packages()
    digest = package_digest(items)
    found = updates()
    found["lists_refreshed"] = bool(fresh)
    return {
        "outcome": "inspected",
        "reason": "",
        "os": os_facts(params["variant"]),
        "hardware": hardware(),
        "uptime_seconds": uptime(),
        "packages": ("unchanged: " + digest) if params["known_packages"] == digest
        else {"count": len(items), "items": items},
        "updates": found,
        "disks": disks(),
        "services": services([u if "." in u else u + ".service" for u in params["services"]]),
        "logs": journal(params["log_lines"]),
        "neighbours": neighbours(),
        "image": image_stamp(),
        "collected_at": datetime.now(timezone.utc).isoformat(),
    }


def main():
    module = AnsibleModule(
        argument_spec={
            "variant": {"type": "str", "required": True},
            "services": {"type": "list", "elements": "str", "default": []},
            "log_lines": {"type": "int", "default": 50},
            "refresh": {"type": "bool", "default": True},
            "max_age": {"type": "int", "default": 3600},
            "stamp": {"type": "path", "default": "/var/lib/ccops/apt-lists-refreshed"},
            "known_packages": {"type": "str", "default": ""},
        },
        supports_check_mode=True,
    )
    module.exit_json(changed=False, ansible_facts={"ccops_report": report(module.params)})


if __name__ == "__main__":
    main()
