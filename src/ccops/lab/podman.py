"""podman, always with the project's containers.conf (no edits under /etc)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

from ccops.errors import LabError
from ccops.paths import project_root

LABEL = "ccops.lab"


SYSTEM_PATH = ("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin")


def system_path() -> str:
    """PATH with the system sbin folders: the lab's tools (nft, ip, and netavark, which runs
    iptables by name) live there, and a login's or pipeline's PATH may not carry them."""
    path = os.environ.get("PATH", "").split(os.pathsep)
    path += [d for d in SYSTEM_PATH if d not in path]
    return os.pathsep.join(p for p in path if p)


def podman_env() -> dict[str, str]:
    return {
        **os.environ,
        "PATH": system_path(),
        "CONTAINERS_CONF": str(project_root() / "images" / "lab" / "containers.conf"),
    }


def podman(*args: str, check: bool = True, stdin: str | None = None, timeout: float = 300) -> str:
    if shutil.which("podman") is None:
        raise LabError("podman is not installed: run scripts/setup (it installs podman, runc, mmdebstrap)")
    proc = subprocess.run(
        ["podman", *args], input=stdin, capture_output=True, text=True, env=podman_env(), timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise LabError(f"podman {args[0]} failed: {detail[-1] if detail else proc.returncode}")
    return proc.stdout


def lab_containers() -> list[dict[str, Any]]:
    """Containers the lab made (by label), with name, state, image and labels."""
    out = podman("ps", "-a", "--filter", f"label={LABEL}=1", "--format", "json")
    return [
        {
            "name": c["Names"][0],
            "state": c.get("State", ""),
            "image": c.get("ImageID", ""),
            "labels": c.get("Labels") or {},
        }
        for c in json.loads(out or "[]")
    ]


def image_label(image: str, key: str) -> str | None:
    """A label of a local image, or None when the image does not exist."""
    proc = subprocess.run(
        ["podman", "image", "inspect", image], capture_output=True, text=True, env=podman_env(), check=False
    )
    if proc.returncode != 0:
        return None
    data = json.loads(proc.stdout)[0]
    labels: dict[str, str] = (data.get("Config") or {}).get("Labels") or data.get("Labels") or {}
    return labels.get(key, "")
