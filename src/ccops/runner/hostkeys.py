"""SSH host keys: what each host must present, and the one deliberate way to change it.

Every ccops run checks host keys (the runner forces it on). A host whose key changed or
is unknown fails before any authentication, so it never receives a password or a task.
When a change is legitimate (a seat was re-imaged), ``accept`` shows the recorded and the
presented fingerprints, and replaces the recorded key in the host's known_hosts file.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccops.errors import CcopsError
from ccops.inventory.export import inventory_path
from ccops.inventory.model import Host, Inventory
from ccops.inventory.offline import refuse_offline

if TYPE_CHECKING:  # runner.events imports this module at run time
    from ccops.runner.events import HostOutcome

KEY_TYPES = "ed25519,ecdsa,rsa"
_OFFENDING = re.compile(r"Offending \S+ key in (\S+?):\d+")


@dataclass
class KeyCheck:
    host: str
    endpoint: str  # how known_hosts names the host: addr, or [addr]:port
    known_hosts: Path
    recorded: list[str]  # fingerprints recorded for the endpoint
    presented: list[str]  # fingerprints the host presents now
    state: str  # ok, changed, unknown, unreachable

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "known_hosts": str(self.known_hosts)}


def endpoint(host: Host, inventory: Inventory) -> tuple[str, int]:
    profile = inventory.sites[host.site].connections[host.connection]
    address = host.address or host.name
    return address, host.port or profile.get("port") or 22


def known_name(address: str, port: int) -> str:
    return address if port == 22 else f"[{address}]:{port}"


def check(inventory: Inventory, host: Host) -> KeyCheck:
    return _check(inventory, host)[0]


def _check(inventory: Inventory, host: Host) -> tuple[KeyCheck, list[str]]:
    """The comparison, and the known_hosts lines of the keys the host presented."""
    refuse_offline(inventory)  # ssh-keyscan contacts the host: never one of an offline inventory
    address, port = endpoint(host, inventory)
    name = known_name(address, port)
    known = _known_hosts_path(inventory, host)
    recorded = _fingerprints(_recorded_lines(known, name))
    presented_lines = scan(address, port)
    presented = _fingerprints(presented_lines)
    if not presented_lines:
        state = "unreachable"
    elif not recorded:
        state = "unknown"
    elif set(recorded) & set(presented):
        state = "ok"
    else:
        state = "changed"
    return KeyCheck(host.name, name, known, recorded, presented, state), presented_lines


def accept(inventory: Inventory, host: Host) -> KeyCheck:
    """Record the keys the host presents now in place of the recorded ones (atomic rewrite)."""
    result, presented_lines = _check(inventory, host)
    if result.state == "unreachable":
        raise CcopsError(f"{host.name}: no SSH host key answered at {result.endpoint}; nothing recorded")
    _replace_entries(result.known_hosts, result.endpoint, presented_lines)
    return result


def scan(address: str, port: int) -> list[str]:
    """The host's public keys as known_hosts lines (ssh-keyscan; argv, never a shell)."""
    try:
        proc = subprocess.run(
            ["ssh-keyscan", "-T", "5", "-p", str(port), "-t", KEY_TYPES, "--", address],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CcopsError(f"cannot scan {address}:{port}: {exc}") from None
    return sorted(line for line in proc.stdout.splitlines() if line and not line.startswith("#"))


def explain_ssh_failure(message: str) -> str | None:
    """One line for a host key refusal in ssh's output, or None if it is something else."""
    if "Host key verification failed" not in message and "REMOTE HOST IDENTIFICATION HAS CHANGED" not in message:
        return None
    offending = _OFFENDING.search(message)
    if offending or "HAS CHANGED" in message:
        where = f" recorded in {offending.group(1)}" if offending else ""
        return (
            f"host key changed: the host presents a key other than the one{where}; nothing was sent "
            "to it. If it was re-imaged: ccops hostkey accept HOST"
        )
    return (
        "host key unknown: no key is recorded for this host in its known_hosts file; nothing was sent "
        "to it. To trust it: ccops hostkey accept HOST"
    )


def name_known_hosts(inventory: Inventory, outcomes: list[HostOutcome]) -> None:
    """Say which host and which known_hosts file a host key refusal is about."""
    for outcome in outcomes:
        message = outcome.message or ""
        if "host key " in message and "known_hosts:" not in message:
            host = inventory.hosts.get(outcome.host)
            known = _known_hosts_path(inventory, host) if host else None
            outcome.message = message.replace("HOST", outcome.host) + (f" (known_hosts: {known})" if known else "")


def _known_hosts_path(inventory: Inventory, host: Host) -> Path:
    profile = inventory.sites[host.site].connections[host.connection]
    if profile["type"] != "ssh":
        raise CcopsError(f"{host.name} connects by {profile['type']}, not ssh: it has no SSH host key")
    value = profile.get("known_hosts")
    if value is None:
        return Path.home() / ".ssh" / "known_hosts"
    return Path(inventory_path(inventory.root, value))


def _recorded_lines(known: Path, name: str) -> list[str]:
    if not known.exists():
        return []
    proc = subprocess.run(
        ["ssh-keygen", "-F", name, "-f", str(known)], capture_output=True, text=True, timeout=30, check=False
    )
    return [line for line in proc.stdout.splitlines() if line and not line.startswith("#")]


def _fingerprints(lines: list[str]) -> list[str]:
    if not lines:
        return []
    proc = subprocess.run(
        ["ssh-keygen", "-l", "-f", "-"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    # "256 SHA256:... [127.0.0.1]:22201 (ED25519)" -> "SHA256:... (ED25519)"
    out = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3:
            out.append(f"{parts[1]} {parts[-1]}")
    return sorted(set(out))


def _replace_entries(known: Path, name: str, new_lines: list[str]) -> None:
    """Drop every entry for ``name`` and add the new ones; other hosts' lines stay as they are."""
    known.parent.mkdir(parents=True, exist_ok=True)
    old = known.read_text() if known.exists() else ""
    kept = []
    removed = set(_recorded_lines(known, name))
    for line in old.splitlines():
        if line.strip() and line not in removed:
            kept.append(line)
    fd, tmp = tempfile.mkstemp(dir=known.parent, prefix=f".{known.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(f"{line}\n" for line in [*kept, *new_lines]))
    os.chmod(tmp, 0o600)  # noqa: PTH101
    Path(tmp).replace(known)
