"""Sanitise files and folders (NIST SP 800-88 Rev. 1 "clear"), verified by read-back.

Run on the host by role decommission as root:
python3 -c <this> --run RUN --log LOG [--check-only] [--certificates] [--protect FOLDER]... -- PATH...
Every regular file is overwritten in place with zeros to its full size, flushed to the
device, dropped from the page cache and read back: every byte must be zero. Then it is
removed. Symbolic links are removed, never followed; a folder is left empty. Prints one
JSON list, an entry per path; exits 1 when any path did not verify. With --check-only
nothing is written: each path must already be absent or an empty folder.

Before anything is written every path is checked as this host resolves it, and one refused
path means nothing is written at all: the text must be an absolute path in normal form (a
leading '//' is '/' to the kernel), and the resolved path (symbolic links followed) must not
be, contain or lie in a protected folder (the lists of ccops.inventory.host_paths, which
inventory validate applied to the text already). A folder that is a protected folder mounted
again (a bind mount: the same device and inode) is refused too, wherever it is in the tree.
A bind mount of a folder INSIDE a protected folder has no inode to match, so the mount table
(/proc/self/mountinfo) is read as well: the path is refused when it lies on, or has at or
below it, a mount that shows a part of a filesystem which, where that filesystem is mounted
as itself, is a protected place (e.g. /etc/ssh bound at /srv/data/x).
--certificates allows files below /etc and /usr/local (certificate and key files);
--protect adds a folder to the protected ones.
Python 3.9 (Debian 11) and later; standard library only.
"""

import json
import os
import re
import stat
import sys
import time

CHUNK = 1024 * 1024
METHOD = "NIST SP 800-88 Rev. 1 Clear: overwrite with zeros, read back past the page cache, remove"
# kept equal to ccops.inventory.host_paths (tests/integration/test_sanitise_script.py holds them equal)
SYSTEM_FOLDERS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt",
    "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/local", "/var",
    "/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/log", "/var/mail", "/var/opt",
    "/var/spool", "/var/tmp", "/etc/ssl", "/etc/ssl/certs", "/etc/ssl/private",
})
PROTECTED_TREES = frozenset({
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin",
    "/sys", "/usr", "/var/lib/ccops", "/var/lib/dpkg", "/var/lib/apt", "/var/lib/systemd",
})
CERTIFICATE_TREES = frozenset({"/etc", "/usr/local"})


def folder_ids(folders):
    """(device, inode) of each protected folder that exists here: a bind mount of one has the same."""
    out = {}
    for folder in folders:
        try:
            info = os.stat(folder)
        except OSError:
            continue
        out[(info.st_dev, info.st_ino)] = folder
    return out


def textual_refusal(path, certificate, system, trees):
    """Why this resolved path may not be destroyed (the rules of ccops.inventory.host_paths)."""
    if path in system or path in trees:
        return "is the system folder " + path
    inside = sorted(f for f in system | trees if f.startswith(path.rstrip("/") + "/"))
    if inside:
        return "contains the system folder " + inside[0]
    for tree in sorted(trees):
        below_cert = certificate and any(path.startswith(t + "/") for t in CERTIFICATE_TREES)
        if path.startswith(tree + "/") and not below_cert:
            return "lies in the protected folder " + tree
    return None


MOUNTINFO = "/proc/self/mountinfo"
OCTAL = re.compile(r"\\([0-7]{3})")


def unescape(field):
    """A mountinfo path field: the kernel writes space, tab, newline and backslash as \\ooo."""
    return OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text):
    """[(device "major:minor", root within the filesystem, mount point)] in table order.
    A line not of the documented shape makes the whole table unusable (None): refuse, never guess."""
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) < 10 or "-" not in fields[6:] or not re.fullmatch(r"\d+:\d+", fields[2]):
            return None
        root, point = unescape(fields[3]), unescape(fields[4])
        if not point.startswith("/"):
            return None  # a root need not be a path: nsfs shows "net:[4026532174]"
        mounts.append((fields[2], root, point))
    return mounts


def _below(path, folder):
    """path relative to folder ("" when equal), or None when path is not at or below folder."""
    if path == folder:
        return ""
    prefix = folder.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def _join(folder, rel):
    return folder if not rel else folder.rstrip("/") + "/" + rel


def host_names(device, fs_path, mounts):
    """The names this host gives a place of a filesystem (device, path inside it) or parts of it:
    where /etc/ssh of / is bound at /srv/x, the place /etc/ssh is also /srv/x, and the place
    /srv/data holds what /var/log shows when /srv/data/log is bound at /var/log."""
    names = []
    for dev, root, point in mounts:
        if dev != device:
            continue
        rel = _below(fs_path, root)
        if rel is not None:
            names.append(_join(point, rel))  # the place, seen through this mount
        elif _below(root, fs_path) is not None:
            names.append(point)  # this mount shows a part of the place
    return names


def mount_refusal(path, mounts, certificate, system, trees):
    """Why the path's own mount or a mount at or below it may not be destroyed, or None: none of
    them may share its files with a protected place under another name (a bind mount)."""
    owner = None
    for mount in mounts:  # the last, longest mount point holding the path is the one it lies on
        if _below(path, mount[2]) is not None and (owner is None or len(mount[2]) >= len(owner[2])):
            owner = mount
    places = []
    if owner is not None:
        places.append((path, owner[0], _join(owner[1], _below(path, owner[2]))))
    places += [(point, dev, root) for dev, root, point in mounts if point != path and _below(point, path) is not None]
    for where, device, fs_path in places:
        for name in host_names(device, fs_path, mounts):
            why = textual_refusal(name, certificate, system, trees)
            if name != where and why:
                return f"{where} shares its files with {name} (a bind mount), which {why}"
    return None


def refusal(path, certificate, extra):
    """Why this path may not be destroyed on this host, or None. Reads only; writes nothing."""
    if not path.startswith("/") or path.startswith("//") or os.path.normpath(path) != path:
        return "not an absolute path in normal form"
    system, trees = SYSTEM_FOLDERS | extra, PROTECTED_TREES | extra
    real = os.path.realpath(path)
    why = textual_refusal(real, certificate, system, trees)
    if why:
        return ("resolves to " + real + ", which " + why) if real != path else why
    try:
        with open(MOUNTINFO, encoding="utf-8", errors="surrogateescape") as handle:
            mounts = parse_mountinfo(handle.read())
    except OSError:
        mounts = None
    if mounts is None:
        return "the mount table " + MOUNTINFO + " cannot be read: bind mounts cannot be ruled out"
    why = mount_refusal(real, mounts, certificate, system, trees)
    if why:
        return why
    ids = folder_ids(system | trees)
    if not os.path.isdir(real) or os.path.islink(path):
        return None  # a file, or a link that is removed and never followed
    for root, dirs, _files in os.walk(real):  # symbolic links to folders are not followed
        info = os.stat(root)
        same = ids.get((info.st_dev, info.st_ino))
        if same:
            return root + " is " + same + " mounted again (a bind mount): refused"
    return None


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


def entry_for(path):
    return {"path": path, "method": METHOD, "files": 0, "bytes": 0}


def one(path, check_only):
    entry = entry_for(path)
    try:
        if not check_only and os.path.lexists(path):
            entry.update(sanitise(path))
    except (OSError, ValueError) as exc:
        return {**entry, "verification": str(exc), "result": "failed"}
    now = state(path)
    checked = "read back as zeros before removal; now " if entry["files"] else "now "
    return {**entry, "verification": checked + now, "result": "passed" if now != "not empty" else "failed"}


def main(argv):
    run, log, check_only, certificate, extra = "", "", False, False, set()
    while argv and argv[0] != "--":
        flag = argv.pop(0)
        if flag == "--run":
            run = argv.pop(0)
        elif flag == "--log":
            log = argv.pop(0)
        elif flag == "--check-only":
            check_only = True
        elif flag == "--certificates":
            certificate = True
        elif flag == "--protect":
            extra.add(argv.pop(0))  # as named: its inode is what a mount of it shows
        else:
            print(json.dumps([{"path": "", "result": "refused", "verification": "unknown option " + flag}]))
            return 2
    paths = argv[1:]
    refused = {p: why for p in paths if (why := refusal(p, certificate, frozenset(extra)))}
    if refused:  # one refused path: nothing is written at all
        results = [
            {**entry_for(p), "result": "refused", "verification": "refused: " + refused[p]}
            if p in refused
            else {**entry_for(p), "result": "not done", "verification": "nothing written: another path was refused"}
            for p in paths
        ]
        print(json.dumps(results))
        return 1
    results = [one(path, check_only) for path in paths]
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
