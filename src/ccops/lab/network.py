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
import shutil
import subprocess

from ccops.errors import LabError
from ccops.lab.podman import LABEL, podman, system_path

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


GUARD_TABLE = "ccops_lab_guard"


def _tool(name: str) -> str:
    return shutil.which(name, path=system_path()) or name


def ensure_network() -> None:
    """The lab network, and the guard that keeps its traffic on this machine."""
    _ensure_podman_network()
    _guard_forwarding()


def _ensure_podman_network() -> None:
    """Create the lab network once; refuse one of that name that is not internal or not ours."""
    found = podman("network", "ls", "--format", "json", "--filter", f"name=^{NETWORK}$")
    networks = [n for n in json.loads(found or "[]") if n.get("name") == NETWORK]
    if not networks:
        _remove_orphaned_bridge()
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


def _guard_forwarding() -> None:
    """Drop anything this machine would forward between the lab and elsewhere.

    `--internal` gives the containers no route out, but lab hosts run with
    NET_ADMIN (ccops comply loads nftables rulesets on them), so root on one
    could add a route through the gateway. This machine's own forward hook
    then drops it, whatever its other firewall says (a drop in any base chain
    is final). Traffic between lab hosts and to or from this machine itself is
    not forwarded and passes.
    """
    bridge = podman("network", "inspect", NETWORK, "--format", "{{.NetworkInterface}}").strip()
    rules = [f"ip saddr {SUBNET} ip daddr != {SUBNET} drop", f"ip daddr {SUBNET} ip saddr != {SUBNET} drop"]
    if bridge:
        rules += [f'iifname "{bridge}" oifname != "{bridge}" drop', f'oifname "{bridge}" iifname != "{bridge}" drop']
    ruleset = (
        f"table inet {GUARD_TABLE}\ndelete table inet {GUARD_TABLE}\n"
        f"table inet {GUARD_TABLE} {{\n  chain forward {{\n    type filter hook forward priority -10; policy accept;\n"
        + "".join(f"    {rule}\n" for rule in rules)
        + "  }\n}\n"
    )
    try:
        done = subprocess.run([_tool("nft"), "-f", "-"], input=ruleset, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise LabError("nft is not installed: run scripts/setup (the lab's forward guard needs nftables)") from None
    if done.returncode != 0:
        raise LabError(f"cannot load the lab's forward guard (nft): {done.stderr.strip()[:200]}")


def remove_network() -> None:
    podman("network", "rm", "--force", NETWORK, check=False)
    subprocess.run([_tool("nft"), "delete", "table", "inet", GUARD_TABLE], capture_output=True, check=False)
    _remove_orphaned_bridge()  # seen left behind by netavark after the last container went


def _remove_orphaned_bridge() -> None:
    """Delete a podman bridge left holding the gateway address after the lab network went.

    netavark normally removes a bridge with its network; a `lab down` racing a
    `lab up` (two runs sharing the machine's one lab) can leave it, and podman
    then refuses the subnet as used. Only a podman bridge (named podmanN) with
    exactly the lab's gateway address is touched.
    """
    shown = subprocess.run([_tool("ip"), "-j", "addr", "show"], capture_output=True, text=True, check=False)
    try:
        links = json.loads(shown.stdout or "[]")
    except ValueError:
        return
    for link in links:
        name = str(link.get("ifname", ""))
        addresses = {a.get("local") for a in link.get("addr_info") or []}
        if name.startswith("podman") and str(GATEWAY) in addresses:
            subprocess.run([_tool("ip"), "link", "delete", name], capture_output=True, check=False)
