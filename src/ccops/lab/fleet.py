"""The lab fleet: Debian hosts as podman containers booting systemd and sshd.

Hosts listen only on 127.0.0.1 (slirp4netns port forwards), so nothing but
loopback traffic leaves this machine's side. ``up`` is idempotent and makes
the fleet exactly as asked; ``down`` removes only what carries the lab label.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ccops.errors import LabError
from ccops.lab.images import ensure_images, image_name
from ccops.lab.inventory import write_lab_inventory
from ccops.lab.podman import LABEL, lab_containers, podman
from ccops.paths import lab_inventory, state_dir

DEFAULT_VARIANTS = ("debian11", "debian12", "debian13")
BOOT_TIMEOUT = 120


@dataclass(frozen=True)
class LabHost:
    name: str
    variant: str
    port: int

    @property
    def container(self) -> str:
        return f"ccops-lab-{self.name}"


def lab_dir() -> Path:
    return state_dir() / "lab"


def inventory_dir() -> Path:
    # inventory/lab in a checkout, $CCOPS_HOME/lab/inventory when installed (see ccops.paths)
    return lab_inventory()


def layout(count: int, variants: list[str], base_port: int) -> list[LabHost]:
    """Hosts spread round-robin over the variants: lab-deb11-01, lab-deb12-01, ..."""
    if count < 1:
        raise LabError("--hosts must be at least 1")
    numbers: dict[str, int] = {}
    hosts = []
    for i in range(count):
        variant = variants[i % len(variants)]
        numbers[variant] = numbers.get(variant, 0) + 1
        name = f"lab-{variant.replace('debian', 'deb')}-{numbers[variant]:02d}"
        hosts.append(LabHost(name, variant, base_port + i))
    return hosts


def up(count: int, variants: list[str], base_port: int, say=print) -> list[LabHost]:
    hosts = layout(count, variants, base_port)
    ensure_images(sorted(set(variants)), say)
    credentials = _credentials()
    wanted = {h.container: h for h in hosts}
    for container in lab_containers():
        host = wanted.get(container["name"])
        if host is None or not _matches(container, host):
            podman("rm", "-f", "-t", "5", container["name"])
    existing = {c["name"]: c for c in lab_containers()}
    for host in hosts:
        current = existing.get(host.container)
        if current is None:
            say(f"  starting {host.name} ({host.variant}) on 127.0.0.1:{host.port}")
            _run_container(host)
        elif current["state"] != "running":
            podman("start", host.container)
    known = []
    for host in hosts:
        _wait_booted(host)
        known.append(_provision(host, credentials))
    (lab_dir() / "known_hosts").write_text("".join(known))
    write_lab_inventory(inventory_dir(), hosts, lab_dir())
    return hosts


def _matches(container: dict, host: LabHost) -> bool:
    labels = container["labels"]
    current_image = podman("image", "inspect", "--format", "{{.Id}}", image_name(host.variant)).strip()
    return (labels.get("ccops.lab.port") == str(host.port) and labels.get("ccops.lab.variant") == host.variant
            and current_image.startswith(container["image"][:12]))


def _run_container(host: LabHost) -> None:
    podman("run", "-d", "--name", host.container, "--hostname", host.name,
           "--label", f"{LABEL}=1", "--label", f"ccops.lab.variant={host.variant}",
           "--label", f"ccops.lab.port={host.port}",
           "--systemd=always", "--restart=always", "--network=slirp4netns",
           "--publish", f"127.0.0.1:{host.port}:22", image_name(host.variant), "/sbin/init")


def _wait_booted(host: LabHost) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        key = podman("exec", host.container, "cat", "/etc/ssh/ssh_host_ed25519_key.pub", check=False)
        if key.startswith("ssh-ed25519") and ssh_banner(host.port):
            return
        time.sleep(1)
    raise LabError(f"{host.name} did not come up within {BOOT_TIMEOUT}s (podman logs {host.container})")


def _provision(host: LabHost, credentials: dict[str, str]) -> str:
    """Install the lab key and sudo password; return the host's known_hosts line."""
    user = "ccops"
    podman("exec", "-i", host.container, "tee", f"/home/{user}/.ssh/authorized_keys", stdin=credentials["public_key"])
    podman("exec", host.container, "chown", f"{user}:{user}", f"/home/{user}/.ssh/authorized_keys")
    podman("exec", "-i", host.container, "chpasswd", stdin=f"{user}:{credentials['password']}\n")
    # the provisioned state is what the host's restore card returns to at every boot
    podman("exec", host.container, "/usr/local/sbin/ccops-restore-card", "enable")
    key = podman("exec", host.container, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").split()
    return f"[127.0.0.1]:{host.port} {key[0]} {key[1]}\n"


def _credentials() -> dict[str, str]:
    """The lab's own SSH key and sudo password, made once, readable only by this user."""
    folder = lab_dir()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    key = folder / "id_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ccops-lab", "-f", str(key)],
                       check=True, capture_output=True)
    password = folder / "become_password"
    if not password.exists():
        password.touch(mode=0o600)
        password.write_text(secrets.token_urlsafe(18))
    return {"public_key": (folder / "id_ed25519.pub").read_text(), "password": password.read_text().strip()}


def ssh_banner(port: int, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            return conn.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def status() -> list[dict]:
    out = []
    for container in lab_containers():
        labels = container["labels"]
        port = int(labels.get("ccops.lab.port", "0"))
        out.append({"host": container["name"].removeprefix("ccops-lab-"), "variant": labels.get("ccops.lab.variant"),
                    "port": port, "container": container["state"],
                    "ssh": "ok" if container["state"] == "running" and ssh_banner(port) else "down"})
    return sorted(out, key=lambda h: h["port"])


def down(remove_images: bool = False, say=print) -> int:
    containers = lab_containers()
    for container in containers:
        say(f"  removing {container['name']}")
        podman("rm", "-f", "-t", "5", container["name"])
    shutil.rmtree(inventory_dir(), ignore_errors=True)
    (lab_dir() / "known_hosts").unlink(missing_ok=True)
    if remove_images:
        from ccops.lab.images import recipe

        for variant in recipe()["variants"]:
            podman("rmi", "--ignore", image_name(variant), check=False)
    return len(containers)


