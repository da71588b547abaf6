"""What decommission may destroy on a Debian host: data paths and certificate files.

A path is refused unless it is absolute and written in its normal form: POSIX ``normpath``
keeps a leading ``//`` and the kernel reads ``//etc`` as ``/etc``, so a guard that compares
normalised text lets it through; ``/./etc`` and ``/etc/../usr`` are refused for the same
reason (the text must be the folder it names). Then, whatever the kind:

- never a system folder (SYSTEM_FOLDERS), nor a folder that contains one (``/var`` holds
  ``/var/lib``): those hold the OS or every user's files;
- never below a protected tree (PROTECTED_TREES): the OS itself, the kernel's pseudo file
  systems and ccops's own state on the host. Certificate and key files may lie below
  CERTIFICATE_TREES (``/etc/ssl/private/seat.key``), data never does.

The host-side sanitiser (roles/decommission/files/sanitise.py) keeps the same lists (a unit
test holds them equal) and checks the path again as the host resolves it: symbolic links
and bind mounts of a protected folder are refused there, before anything is written.
Windows hosts (windows_refusal): a data path is an absolute path on a drive, never the drive
or a top system folder, nothing below Windows; a certificate is a thumbprint.
"""

from __future__ import annotations

import posixpath
import re

# these name folders a wipe must never touch; nothing here is opened (hence the S108 exemptions)
SYSTEM_FOLDERS = frozenset(
    {
        "/",
        *("/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt"),
        *("/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/local", "/var"),  # noqa: S108
        *("/var/backups", "/var/cache", "/var/lib", "/var/local", "/var/log", "/var/mail", "/var/opt"),
        *("/var/spool", "/var/tmp", "/etc/ssl", "/etc/ssl/certs", "/etc/ssl/private"),  # noqa: S108
    }
)
PROTECTED_TREES = frozenset(
    {
        *("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run", "/sbin"),
        *("/sys", "/usr", "/var/lib/ccops", "/var/lib/dpkg", "/var/lib/apt", "/var/lib/systemd"),
    }
)
# where certificates and keys live: below these (not the folders themselves) a certificate path may lie
CERTIFICATE_TREES = frozenset({"/etc", "/usr/local"})
WINDOWS_PATH = re.compile(r"([A-Za-z]):\\([^<>:\"/|?*\x00-\x1f]{1,259})")
WINDOWS_THUMBPRINT = re.compile(r"[0-9A-Fa-f]{40}")
# top folders of a Windows system drive: never a data path; nothing below \Windows is either
WINDOWS_SYSTEM = frozenset({"windows", "program files", "program files (x86)", "programdata", "users"})


def refusal(path: str, *, certificate: bool = False) -> str | None:
    """Why ``path`` may not be destroyed, or None when it may."""
    if not path.isprintable() or len(path) > 4096:
        return f"{path[:80]!r} is not a usable path (printable characters, at most 4096)"
    if not path.startswith("/") or path.startswith("//") or posixpath.normpath(path) != path:
        normal = posixpath.normpath("/" + path.lstrip("/")) if path.startswith("/") else ""
        usable = normal and normal != path and not refusal(normal, certificate=certificate)
        hint = f" (did you mean {normal!r}?)" if usable else ""
        return f"{path!r} is not an absolute path in normal form{hint}"
    if path in SYSTEM_FOLDERS or path in PROTECTED_TREES:
        return f"{path!r} is a system folder"
    inside = sorted(f for f in SYSTEM_FOLDERS | PROTECTED_TREES if f.startswith(path + "/"))
    if inside:
        return f"{path!r} contains the system folder {inside[0]!r}"
    for tree in sorted(PROTECTED_TREES):
        if path.startswith(tree + "/") and not (certificate and _below_any(path, CERTIFICATE_TREES)):
            return f"{path!r} lies in the protected system folder {tree!r}"
    return None


def windows_refusal(value: str, *, certificate: bool = False) -> str | None:
    """Windows: a data path is a folder or file on a drive, never the drive or the OS; a certificate
    is its thumbprint in LocalMachine\\My (the role's win_certificate_store takes nothing else)."""
    if certificate:
        return (
            None
            if WINDOWS_THUMBPRINT.fullmatch(value)
            else f"{value!r} is not a certificate thumbprint (40 hex digits)"
        )
    match = WINDOWS_PATH.fullmatch(value)
    parts = match[2].split("\\") if match else []
    if not match or any(p in ("", ".", "..") for p in parts):
        return f"{value!r} is not an absolute Windows path like D:\\Recordings (no '.', '..' or empty parts)"
    if parts[0].lower() in WINDOWS_SYSTEM and (len(parts) == 1 or parts[0].lower() == "windows"):
        return f"{value!r} is a Windows system folder"
    return None


def decommission_refusal(value: object, family: str | None, *, certificate: bool) -> str | None:
    """One entry of decommission_data_paths or decommission_certificates, for hosts of ``family``
    (None: site vars, hosts of either family: the entry's own shape says which it is for)."""
    if not isinstance(value, str):
        return f"expected text, got {type(value).__name__}"
    if family == "windows" or (family is None and not value.startswith("/")):
        return windows_refusal(value, certificate=certificate)
    return refusal(value, certificate=certificate)


def _below_any(path: str, trees: frozenset[str]) -> bool:
    return any(path.startswith(t + "/") for t in trees)
