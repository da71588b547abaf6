"""The lab fleet: Debian hosts as podman containers booting systemd and sshd.

Hosts live on the lab's internal podman network (lab/network.py): this
machine and the other lab hosts reach them at fixed addresses, and they have
no route out. ``up`` is idempotent and makes
the fleet exactly as asked; ``down`` removes only what carries the lab label.
"""

from __future__ import annotations

import ipaddress
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccops.errors import LabError
from ccops.inventory.variants import DEBIAN_VARIANTS
from ccops.lab import apt_proxy
from ccops.lab.boot import BootWatch, look
from ccops.lab.images import ensure_images, image_name
from ccops.lab.inventory import write_lab_inventory
from ccops.lab.limits import ensure as ensure_limits
from ccops.lab.network import FIRST_HOST, GATEWAY, NETWORK, ensure_network, host_address, remove_network
from ccops.lab.podman import LABEL, lab_containers, podman
from ccops.paths import lab_inventory, state_dir
from ccops.runner.sshprobe import sshd_answers

DEFAULT_VARIANTS = DEBIAN_VARIANTS
BOOT_ATTEMPTS = 3  # a host is created at most this often per lab up
PARALLEL_BOOTS = 4


@dataclass(frozen=True)
class LabHost:
    name: str
    variant: str
    address: str  # on the lab network; sshd listens on port 22

    @property
    def container(self) -> str:
        return f"ccops-lab-{self.name}"


def lab_dir() -> Path:
    return state_dir() / "lab"


def inventory_dir() -> Path:
    # inventory/lab in a checkout, $CCOPS_HOME/lab/inventory when installed (see ccops.paths)
    return lab_inventory()


def layout(count: int, variants: list[str], first: ipaddress.IPv4Address = FIRST_HOST) -> list[LabHost]:
    """Hosts spread round-robin over the variants: lab-deb11-01, lab-deb12-01, ..."""
    if count < 1:
        raise LabError("--hosts must be at least 1")
    numbers: dict[str, int] = {}
    hosts = []
    for i in range(count):
        variant = variants[i % len(variants)]
        numbers[variant] = numbers.get(variant, 0) + 1
        name = f"lab-{variant.replace('debian', 'deb')}-{numbers[variant]:02d}"
        hosts.append(LabHost(name, variant, str(host_address(first, i))))
    return hosts


@dataclass(frozen=True)
class UpResult:
    hosts: list[LabHost]  # up, provisioned and in the inventory
    failed: dict[str, str]  # host name -> why it did not come up


def up(
    count: int, variants: list[str], first: ipaddress.IPv4Address = FIRST_HOST, say: Callable[[str], None] = print
) -> UpResult:
    """Make the fleet exactly as asked; a host whose boot stalls is recreated.

    Every host is checked, new or existing, so a running container whose boot
    stalled is recreated too. The inventory and known_hosts list the hosts
    that came up, even when others did not.
    """
    hosts = layout(count, variants, first)
    ensure_limits(count, say)  # before any host boots: a host that runs out stalls
    ensure_images(sorted(set(variants)), say)
    ensure_network()
    apt_proxy.start(str(GATEWAY))  # the hosts' only way to their Debian archive
    credentials = _credentials()
    wanted = {h.container: h for h in hosts}
    for container in lab_containers():
        host = wanted.get(container["name"])
        if host is None or not _matches(container, host):
            podman("rm", "-f", "-t", "5", container["name"])
    existing = {c["name"]: c["state"] for c in lab_containers()}
    # a few boots at a time: thirty at once on two cores is how boots stall
    with ThreadPoolExecutor(max_workers=PARALLEL_BOOTS) as pool:
        outcomes = list(pool.map(lambda h: _bring_up(h, existing.get(h.container), credentials, say), hosts))
    ready = [h for h, (known, _) in zip(hosts, outcomes, strict=True) if known]
    (lab_dir() / "known_hosts").write_text("".join(known for known, _ in outcomes))
    write_lab_inventory(inventory_dir(), ready, lab_dir())
    return UpResult(ready, {h.name: why for h, (known, why) in zip(hosts, outcomes, strict=True) if not known})


def _bring_up(
    host: LabHost, state: str | None, credentials: dict[str, str], say: Callable[[str], None]
) -> tuple[str, str]:
    """(the host's known_hosts line, "") once it is up and provisioned, or ("", why it is not)."""
    why = ""
    for attempt in range(1, BOOT_ATTEMPTS + 1):
        try:
            if state is None:
                say(f"  starting {host.name} ({host.variant}) at {host.address}")
                _run_container(host)
            elif state != "running":
                podman("start", host.container)
            why = _wait_booted(host)
            if not why:
                return _provision(host, credentials), ""
        except LabError as exc:
            why = str(exc)
        if attempt < BOOT_ATTEMPTS:
            say(f"  {host.name}: {why}; recreating it (attempt {attempt + 1} of {BOOT_ATTEMPTS})")
            podman("rm", "-f", "-t", "0", host.container, check=False)
            state = None
    say(f"  {host.name}: {why}; gave up after {BOOT_ATTEMPTS} attempts (podman logs {host.container})")
    return "", why


CAPS = "NET_ADMIN"


def _matches(container: dict[str, Any], host: LabHost) -> bool:
    labels = container["labels"]
    current_image = podman("image", "inspect", "--format", "{{.Id}}", image_name(host.variant)).strip()
    return (
        labels.get("ccops.lab.address") == host.address
        and labels.get("ccops.lab.caps") == CAPS
        and labels.get("ccops.lab.variant") == host.variant
        and current_image.startswith(container["image"][:12])
    )


def _run_container(host: LabHost) -> None:
    podman(
        "run",
        "-d",
        "--name",
        host.container,
        "--hostname",
        host.name,
        "--label",
        f"{LABEL}=1",
        "--label",
        f"ccops.lab.variant={host.variant}",
        "--label",
        f"ccops.lab.address={host.address}",
        "--label",
        f"ccops.lab.caps={CAPS}",
        # nftables inside the host's own network namespace (ccops comply's firewall); the lab
        # network stays internal: nothing ccops runs there adds a route
        f"--cap-add={CAPS}",
        "--systemd=always",
        "--restart=always",
        f"--network={NETWORK}",
        "--ip",
        host.address,
        image_name(host.variant),
        "/sbin/init",
    )


def _wait_booted(host: LabHost) -> str:
    """Wait for the host's boot to finish: "" once it has, else why it counts as stalled."""
    watch = BootWatch(time.monotonic())
    while True:
        state = look(host.container, host.address)
        if state.up:
            return ""
        if not state.system:
            container = podman(
                "container", "inspect", "--format", "{{.State.Status}}", host.container, check=False
            ).strip()
            if container != "running":
                return f"container {container or 'gone'}"
        why = watch.stalled(state, time.monotonic())
        if why:
            return why
        time.sleep(1)


def _provision(host: LabHost, credentials: dict[str, str]) -> str:
    """Install the lab key and sudo password; return the host's known_hosts line."""
    user = "ccops"
    podman("exec", "-i", host.container, "tee", f"/home/{user}/.ssh/authorized_keys", stdin=credentials["public_key"])
    podman("exec", host.container, "chown", f"{user}:{user}", f"/home/{user}/.ssh/authorized_keys")
    podman("exec", "-i", host.container, "chpasswd", stdin=f"{user}:{credentials['password']}\n")
    proxy = f"http://{GATEWAY}:{apt_proxy.PORT}/"
    podman(
        "exec",
        "-i",
        host.container,
        "tee",
        "/etc/apt/apt.conf.d/80ccops-lab-proxy",
        stdin=f'Acquire::http::Proxy "{proxy}";\nAcquire::https::Proxy "{proxy}";\n',
    )
    # the provisioned state is what the host's restore card returns to at every boot
    podman("exec", host.container, "/usr/local/sbin/ccops-restore-card", "enable")
    key = podman("exec", host.container, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").split()
    return f"{host.address} {key[0]} {key[1]}\n"


def _credentials() -> dict[str, str]:
    """The lab's own SSH key and sudo password, made once, readable only by this user."""
    folder = lab_dir()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    key = folder / "id_ed25519"
    if not key.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ccops-lab", "-f", str(key)],
            check=True,
            capture_output=True,
        )
    password = folder / "become_password"
    if not password.exists():
        password.touch(mode=0o600)
        password.write_text(secrets.token_urlsafe(18))
    return {"public_key": (folder / "id_ed25519.pub").read_text(), "password": password.read_text().strip()}


def status() -> list[dict[str, Any]]:
    out = []
    for container in lab_containers():
        labels = container["labels"]
        address = labels.get("ccops.lab.address", "")
        out.append(
            {
                "host": container["name"].removeprefix("ccops-lab-"),
                "variant": labels.get("ccops.lab.variant"),
                "address": address,
                "container": container["state"],
                "ssh": "ok" if container["state"] == "running" and address and sshd_answers(address) else "down",
            }
        )
    return sorted(out, key=lambda h: (not h["address"], ipaddress.IPv4Address(h["address"] or 0)))


def down(remove_images: bool = False, say: Callable[[str], None] = print) -> int:
    containers = lab_containers()
    for container in containers:
        say(f"  removing {container['name']}")
        podman("rm", "-f", "-t", "5", container["name"])
    remove_network()
    apt_proxy.stop()
    shutil.rmtree(inventory_dir(), ignore_errors=True)
    (lab_dir() / "known_hosts").unlink(missing_ok=True)
    if remove_images:
        from ccops.lab.images import recipe

        for variant in recipe()["variants"]:
            podman("rmi", "--ignore", image_name(variant), check=False)
    return len(containers)
