"""Kernel limits a lab of N hosts needs, raised before the hosts boot.

Every lab host's systemd runs as root and holds its own inotify instances and
watches, counted against root's per-user limits: with the stock 128 instances
the 29th host's systemd stalls. ``ensure`` raises what is too low (root may
write /proc/sys) or says in one line what to raise.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

PROC_SYS = Path("/proc/sys")
# sysctl name -> (what this machine uses without the lab, what each host adds); a host's
# systemd and journald hold about five instances, udev-less containers a few hundred watches
NEEDS = {
    "fs.inotify.max_user_instances": (128, 8),
    "fs.inotify.max_user_watches": (65536, 4096),
    "kernel.keys.root_maxkeys": (1000, 20),
}


def needed(count: int) -> dict[str, int]:
    return {name: base + per_host * count for name, (base, per_host) in NEEDS.items()}


def ensure(count: int, say: Callable[[str], None] = print, proc_sys: Path = PROC_SYS) -> list[str]:
    """Raise every limit below what ``count`` hosts need; the lines it said (one per limit it touched)."""
    lines = []
    for name, want in needed(count).items():
        path = proc_sys / name.replace(".", "/")
        try:
            have = int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # a kernel without this limit does not hold the lab back with it
        if have >= want:
            continue
        try:
            path.write_text(f"{want}\n")
            line = f"  raised {name} from {have} to {want} for {count} hosts"
        except OSError:
            line = f"  {name} is {have}; {count} hosts need {want}: raise it (sysctl -w {name}={want})"
        lines.append(line)
        say(line)
    return lines
