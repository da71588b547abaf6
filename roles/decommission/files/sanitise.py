"""Sanitise files and folders (NIST SP 800-88 Rev. 1 "clear"), verified by read-back.

Run on the host by role decommission as root: python3 -c <this> --run RUN --log LOG [--check-only] -- PATH...
Every regular file is overwritten in place with zeros to its full size, flushed to the
device, dropped from the page cache and read back: every byte must be zero. Then it is
removed. Symbolic links are removed, never followed; a folder is left empty. Prints one
JSON list, an entry per path; exits 1 when any path did not verify. With --check-only
nothing is written: each path must already be absent or an empty folder.
Python 3.9 (Debian 11) and later; standard library only.
"""

import json
import os
import stat
import sys
import time

CHUNK = 1024 * 1024
METHOD = "NIST SP 800-88 Rev. 1 Clear: overwrite with zeros, read back past the page cache, remove"
# whole system folders are never a data path: a typo must not wipe the OS
REFUSED = {"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/proc", "/root", "/run",
           "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/opt"}


def clear_file(path):
    """Overwrite with zeros, flush, read back; returns the bytes verified (raises if not zero)."""
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    try:
        size = os.fstat(fd).st_size
        zeros = bytes(CHUNK)
        left = size
        while left > 0:
            left -= os.write(fd, zeros[: min(CHUNK, left)])
        os.fsync(fd)
    finally:
        os.close(fd)
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # read from the device, not the cache
        seen = 0
        while True:
            block = os.read(fd, CHUNK)
            if not block:
                break
            if block.count(0) != len(block):
                raise ValueError(f"{path}: non-zero bytes read back at offset {seen}")
            seen += len(block)
    finally:
        os.close(fd)
    if seen != size:
        raise ValueError(f"{path}: read back {seen} bytes of {size}")
    return size


def remove(path, info, totals):
    if stat.S_ISREG(info.st_mode):
        totals["bytes"] += clear_file(path)
        totals["files"] += 1
    os.unlink(path)  # links, sockets, pipes: removed, never opened


def sanitise(path):
    totals = {"files": 0, "bytes": 0}
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        remove(path, info, totals)
        return totals
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files:
            full = os.path.join(root, name)
            remove(full, os.lstat(full), totals)
        for name in dirs:
            full = os.path.join(root, name)
            if os.path.islink(full):
                os.unlink(full)
            else:
                os.rmdir(full)
    return totals


def state(path):
    """What is at the path now: absent, an empty folder, or something left."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "absent"
    if stat.S_ISDIR(info.st_mode) and not os.listdir(path):
        return "empty folder"
    return "not empty"


def one(path, run, check_only):
    entry = {"path": path, "method": METHOD, "files": 0, "bytes": 0}
    if not path.startswith("/") or "/../" in path + "/" or os.path.normpath(path) in REFUSED:
        return {**entry, "verification": "refused: not a data path", "result": "refused"}
    try:
        if not check_only and os.path.lexists(path):
            entry.update(sanitise(path))
    except (OSError, ValueError) as exc:
        return {**entry, "verification": str(exc), "result": "failed"}
    now = state(path)
    checked = "read back as zeros before removal; now " if entry["files"] else "now "
    return {**entry, "verification": checked + now, "result": "passed" if now != "not empty" else "failed"}


def main(argv):
    run, log, check_only = "", "", False
    while argv and argv[0] != "--":
        flag = argv.pop(0)
        if flag == "--run":
            run = argv.pop(0)
        elif flag == "--log":
            log = argv.pop(0)
        elif flag == "--check-only":
            check_only = True
    results = [one(path, run, check_only) for path in argv[1:]]
    if log and not check_only:
        os.makedirs(os.path.dirname(log), mode=0o700, exist_ok=True)
        with open(log, "a", encoding="utf-8") as handle:
            for r in results:
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                handle.write(f"{stamp} run={run} {r['result']} {r['path']} files={r['files']} bytes={r['bytes']}\n")
    print(json.dumps(results))
    return 0 if all(r["result"] == "passed" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
