"""`ccops node prepare`: the node gets exactly the ansible-core, ansible-runner and collections
this jump host runs, from wheels and collection files the jump host holds (the node needs no
package registry). Wheels are downloaded once per Python version and machine into
$CCOPS_HOME/node-cache with this venv's pip and the machine's configured index.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from ccops.errors import CcopsError
from ccops.node.target import NodeTarget
from ccops.paths import private_dir, project_root, state_dir

HELPER = Path(__file__).with_name("ccops_node.py")
NODE_HOME = ".local/lib/ccops-node"  # under the node login's home: ssh starts remote commands there
CURRENT = f"{NODE_HOME}/current"
MIN_PYTHON = (3, 11)  # ansible-core 2.19
# manylinux tags a Debian 12 (glibc 2.36) or 13 (2.41) node can load
_GLIBC = ("manylinux2014", "manylinux_2_17", "manylinux_2_28", "manylinux_2_34")


@dataclass(frozen=True)
class Pins:
    """What a node must run: this jump host's versions and the helper that supervises jobs."""

    ansible_core: str
    ansible_runner: str
    collections: dict[str, str]
    helper: str

    @classmethod
    def here(cls) -> Pins:
        return cls(
            version("ansible-core"),
            version("ansible-runner"),
            {name: info["version"] for name, (_, info) in needed_collections().items()},
            hashlib.sha256(HELPER.read_bytes()).hexdigest(),
        )

    def mismatches(self, node: dict[str, Any]) -> list[str]:
        out = []
        if node.get("error"):
            out.append(f"its install is broken ({node['error']})")
        for key, label in (("ansible_core", "ansible-core"), ("ansible_runner", "ansible-runner")):
            if node.get(key) != getattr(self, key):
                out.append(f"{label} {node.get(key) or 'missing'} (this jump host: {getattr(self, key)})")
        theirs = node.get("collections") or {}
        for name, wanted in self.collections.items():
            if theirs.get(name) != wanted:
                out.append(f"collection {name} {theirs.get(name) or 'missing'} (this jump host: {wanted})")
        if node.get("helper") != self.helper:
            out.append("its ccops helper is another version")
        return out


def needed_collections() -> dict[str, tuple[Path, dict[str, Any]]]:
    """Collections the project's playbooks and roles name (ns.name.x), as this jump host holds them."""
    from importlib.util import find_spec

    spec = find_spec("ansible_collections")  # the collections installed next to ansible-core
    roots = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    text = "\n".join(
        p.read_text(errors="replace") for d in ("playbooks", "roles") for p in (project_root() / d).rglob("*.yml")
    )
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for root in roots:
        for manifest in sorted(root.glob("*/*/MANIFEST.json")):
            info = json.loads(manifest.read_text())["collection_info"]
            name = f"{info['namespace']}.{info['name']}"
            if name not in found and f"{name}." in text:
                found[name] = (manifest.parent, info)
    return found


def cache_dir() -> Path:
    return private_dir(state_dir() / "node-cache")


def wheels_for(python: str, machine: str, pins: Pins) -> Path:
    """The wheel set for one node platform, downloaded once (the folder is complete or absent)."""
    tag = f"cp{python.replace('.', '')}-{machine}-core{pins.ansible_core}-runner{pins.ansible_runner}"
    folder = cache_dir() / "wheels" / tag
    if (folder / "complete").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:"]
    argv += ["--python-version", python, "--implementation", "cp", "--dest", str(folder)]
    for glibc in _GLIBC:
        argv += ["--platform", f"{glibc}_{machine}"]
    argv += [f"ansible-core=={pins.ansible_core}", f"ansible-runner=={pins.ansible_runner}", "pip"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise CcopsError(f"could not download wheels for Python {python} on {machine}: {tail[0]}")
    (folder / "complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")
    return folder


def collections_tar(pins: Pins) -> bytes:
    """The needed collections as the jump host holds them, cached by their versions."""
    key = hashlib.sha256(json.dumps(pins.collections, sort_keys=True).encode()).hexdigest()[:16]
    path = cache_dir() / f"collections-{key}.tar.gz"
    if not path.exists():
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for name, (folder, _) in needed_collections().items():
                namespace, short = name.split(".")
                tar.add(folder, arcname=f"ansible_collections/{namespace}/{short}", filter=_no_bytecode)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(buffer.getvalue())
        tmp.replace(path)
    return path.read_bytes()


def _no_bytecode(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if "__pycache__" in info.name else info


def bundle(wheels: Path, pins: Pins) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for wheel in sorted(wheels.glob("*.whl")):
            tar.add(wheel, arcname=f"wheels/{wheel.name}")
        _add_bytes(tar, "collections.tar.gz", collections_tar(pins))
        _add_bytes(tar, "ccops_node.py", HELPER.read_bytes())
        pinned = [f"ansible-core=={pins.ansible_core}", f"ansible-runner=={pins.ansible_runner}"]
        _add_bytes(tar, "pins.json", json.dumps(pinned).encode())
    return buffer.getvalue()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    tar.addfile(info, io.BytesIO(data))


def ssh(target: NodeTarget, *remote: str, stdin: bytes | None = None, timeout: float = 120) -> str:
    try:
        proc = subprocess.run(target.ssh_argv(*remote), input=stdin, capture_output=True, check=False, timeout=timeout)
    except OSError as exc:  # no ssh on this jump host
        raise CcopsError(f"{target.label()}: could not start ssh: {exc.strerror or exc}") from None
    except subprocess.TimeoutExpired:
        raise CcopsError(f"{target.label()}: ssh did not finish in {timeout:g}s") from None
    if proc.returncode == 255:
        raise CcopsError(f"{target.label()}: ssh failed: {_last(proc.stderr)}")
    if proc.returncode != 0:
        raise CcopsError(f"{target.label()}: {' '.join(remote[:3])} exited {proc.returncode}: {_last(proc.stderr)}")
    return proc.stdout.decode(errors="replace")


def _last(data: bytes) -> str:
    lines = [line for line in data.decode(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def node_platform(target: NodeTarget) -> tuple[str, str]:
    """The node's Python (major.minor) and machine; a Python older than 3.11 is refused."""
    code = "import sys,platform;print('%d.%d' % sys.version_info[:2], platform.machine())"
    out = ssh(target, "python3", "-c", code).split()
    if len(out) != 2:
        raise CcopsError(f"{target.label()}: could not read its Python version")
    python, machine = out
    # the node's words name a cache folder and pip arguments: a version and a machine (x86_64), nothing else
    if not re.fullmatch(r"[0-9]{1,4}\.[0-9]{1,4}", python) or not re.fullmatch(r"[A-Za-z0-9_]{1,32}", machine):
        raise CcopsError(f"{target.label()}: could not read its Python version and machine")
    if tuple(int(p) for p in python.split(".")) < MIN_PYTHON:
        raise CcopsError(
            f"{target.label()} has Python {python}: ansible-core {version('ansible-core')} needs 3.11 or newer, "
            "so it cannot be a node (Debian 11 can be a target, not a node; use Debian 12 or 13)"
        )
    return python, machine


def preflight(target: NodeTarget) -> dict[str, Any]:
    """What the node runs, after it removed what killed jobs left behind (one ssh round trip)."""
    try:
        out = ssh(target, "python3", f"{CURRENT}/ccops_node.py", "preflight")
    except CcopsError as exc:
        if "No such file" in str(exc) or "can't open file" in str(exc):
            raise CcopsError(f"{target.label()} is not prepared: run ccops node prepare --site {target.site}") from None
        raise
    from ccops.hostdata.journal import node_answer

    data = node_answer(out)  # the node's answer is parsed like any host's, never trusted
    if data.get("ccops_error"):
        raise CcopsError(f"{target.label()}: {data['ccops_error']}")
    return data


def prepare_node(target: NodeTarget, say: Any = print) -> dict[str, Any]:
    """Install or update the node; returns what it runs afterwards and how long each step took."""
    started = time.monotonic()
    pins = Pins.here()
    python, machine = node_platform(target)
    wheels = wheels_for(python, machine, pins)
    payload = bundle(wheels, pins)
    say(f"{target.label()}: Python {python} on {machine}; sending {len(payload) // 1024} KiB")
    remote = (
        f"set -e; umask 077; mkdir -p {NODE_HOME}; rm -rf {NODE_HOME}/incoming; mkdir {NODE_HOME}/incoming; "
        f"tar -xzf - -C {NODE_HOME}/incoming; python3 {NODE_HOME}/incoming/ccops_node.py install"
    )
    # a constant shell line: no inventory value is in it
    ssh(target, "sh", "-c", remote, stdin=payload, timeout=600)
    state = preflight(target)
    problems = pins.mismatches(state)
    if problems:
        raise CcopsError(f"{target.label()} after prepare: " + "; ".join(problems))
    state["seconds"] = round(time.monotonic() - started, 1)
    return state


def check_node(target: NodeTarget) -> dict[str, Any]:
    """Before every job: the node runs what this jump host runs, or the batch is refused."""
    state = preflight(target)
    problems = Pins.here().mismatches(state)
    if problems:
        raise CcopsError(
            f"{target.label()} refused before any host was touched: " + "; ".join(problems) + ". "
            f"Run ccops node prepare --site {target.site}",
            exit_code=4,
        )
    return state
