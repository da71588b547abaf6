"""The lab's own network: an internal podman bridge with no route out.

Lab hosts reach each other (a site's distribution point, firewall allow-lists
built from inventory addresses) and this machine reaches them at their
addresses, but nothing on it is forwarded or masqueraded to anywhere else:
``--internal`` gives the containers no default route. Addresses are fixed per
host so the inventory can name them.
"""

from __future__ import annotations

import ipaddress
import json

from ccops.errors import LabError
from ccops.lab.podman import LABEL, podman

NETWORK = "ccops-lab"
SUBNET = ipaddress.IPv4Network("10.213.0.0/24")
GATEWAY = SUBNET.network_address + 1  # this machine's side of the bridge
FIRST_HOST = SUBNET.network_address + 10  # lab-deb11-01 by default


def host_address(first: ipaddress.IPv4Address, index: int) -> ipaddress.IPv4Address:
    """The index-th lab host's address, counting from first; refused when it leaves the subnet."""
    address = first + index
    if address not in SUBNET or address <= GATEWAY or address == SUBNET.broadcast_address:
        raise LabError(
            f"lab host {index + 1} would get {address}, outside {SUBNET} or reserved: use a lower --first-address"
        )
    return address


def parse_first_address(text: str) -> ipaddress.IPv4Address:
    try:
        address = ipaddress.IPv4Address(text.strip())
    except ValueError:
        raise LabError(f"--first-address {text!r} is not an IPv4 address") from None
    if address not in SUBNET or address <= GATEWAY:
        raise LabError(f"--first-address must be inside the lab network {SUBNET}, above {GATEWAY}")
    return address


def ensure_network() -> None:
    """Create the lab network once; refuse one of that name that is not internal or not ours."""
    found = podman("network", "ls", "--format", "json", "--filter", f"name=^{NETWORK}$")
    networks = [n for n in json.loads(found or "[]") if n.get("name") == NETWORK]
    if not networks:
        podman(
            "network",
            "create",
            "--internal",
            "--disable-dns",
            "--subnet",
            str(SUBNET),
            "--gateway",
            str(GATEWAY),
            "--label",
            f"{LABEL}=1",
            NETWORK,
        )
        return
    network = networks[0]
    subnets = [s.get("subnet") for s in network.get("subnets") or []]
    if not network.get("internal") or subnets != [str(SUBNET)]:
        raise LabError(
            f"a podman network named {NETWORK} exists but is not the lab's (internal, {SUBNET}): "
            f"remove it with: podman network rm {NETWORK}"
        )


def remove_network() -> None:
    podman("network", "rm", "--force", NETWORK, check=False)
