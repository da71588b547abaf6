#!/usr/bin/python3
"""Pending updates (apt simulation, no lock taken), disk use and a container's uptime, as JSON on stdout."""
import json
import os
import re
import subprocess

# "Inst NAME [OLD] (NEW ORIGIN, ORIGIN... [ARCH])": a version offered by several suites (a point
# release that carries a security fix) lists every origin; any -security one makes it a security update
INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) ([^)]*?)(?: \[[^\]]*\])?\)")


def updates():
    env = dict(os.environ, LC_ALL="C")
    out = subprocess.run(["apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"],
                         capture_output=True, text=True, env=env, check=False).stdout
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


def disks():
    out = subprocess.run(["df", "-P", "-k", "-x", "tmpfs", "-x", "devtmpfs", "-x", "squashfs"],
                         capture_output=True, text=True, check=False).stdout.splitlines()[1:]
    seen, rows = set(), []
    for line in out:
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


def container_uptime():
    """Seconds since this container's init started, or None on a real machine.

    A container shares its host's kernel, so /proc/uptime (Ansible's
    uptime_seconds) is the machine's uptime. The container booted when its
    PID 1 started: field 22 of /proc/1/stat, in clock ticks since the kernel booted.
    """
    if not in_container():
        return None
    with open("/proc/uptime") as handle:
        kernel_uptime = float(handle.read().split()[0])
    with open("/proc/1/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()  # after the command name, fields start at 3
    started = int(fields[22 - 3]) / os.sysconf("SC_CLK_TCK")
    return max(0, int(kernel_uptime - started))


print(json.dumps({"updates": updates(), "disks": disks(), "container_uptime_seconds": container_uptime()}))
