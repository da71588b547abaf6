#!/usr/bin/python3
"""Pending updates (apt simulation, no lock taken) and disk use, as JSON on stdout."""
import json
import os
import re
import subprocess

INST = re.compile(r"^Inst (\S+) (?:\[(\S+)\] )?\((\S+) (\S+)")


def updates():
    env = dict(os.environ, LC_ALL="C")
    out = subprocess.run(["apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"],
                         capture_output=True, text=True, env=env, check=False).stdout
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


print(json.dumps({"updates": updates(), "disks": disks()}))
