"""Where a site's execution node is and how the jump host logs in to it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from ccops.errors import CcopsError
from ccops.inventory.export import inventory_path
from ccops.inventory.model import Inventory, Site
from ccops.inventory.offline import refuse_offline


@dataclass(frozen=True)
class NodeTarget:
    site: str
    name: str  # the inventory host name, or the address
    address: str
    port: int | None
    user: str | None
    key_file: str | None
    known_hosts: str | None

    def ssh_argv(self, *remote: str, forward_agent: bool = False, control: str | None = None) -> list[str]:
        """ssh to the node running ``remote`` (words quoted here: the remote shell reads one line).

        Host keys are checked as for every host; BatchMode: nothing ever waits for a password.
        """
        argv = ["ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
        argv += ["-o", "ServerAliveInterval=10", "-o", "ServerAliveCountMax=3", "-o", "ConnectTimeout=15"]
        argv += ["-o", f"ForwardAgent={'yes' if forward_agent else 'no'}", "-o", "ClearAllForwardings=yes"]
        if self.known_hosts:
            argv += ["-o", f"UserKnownHostsFile={self.known_hosts}"]
        if self.key_file:
            argv += ["-o", f"IdentityFile={self.key_file}", "-o", "IdentitiesOnly=yes"]
        if control:
            argv += ["-o", "ControlMaster=auto", "-o", f"ControlPath={control}", "-o", "ControlPersist=30"]
        if self.port:
            argv += ["-p", str(self.port)]
        if self.user:
            argv += ["-l", self.user]
        # the address was validated (an IP address or a host name, never starting with '-')
        return [*argv, "--", self.address, shlex.join(remote)] if remote else [*argv, "--", self.address]

    def label(self) -> str:
        return f"node {self.name} of site {self.site}"


def node_target(inventory: Inventory, site: Site) -> NodeTarget | None:
    node = site.node
    if node is None:
        return None
    if node.host is not None:
        host = inventory.host(node.host)
        profile = inventory.sites[host.site].connections[host.connection]
        address, port, name = host.address or host.name, host.port or profile.get("port"), host.name
    else:
        if node.connection is None or node.address is None:
            raise CcopsError(f"{site.file}:{node.line}: site.node is incomplete")
        profile = site.connections[node.connection]
        address, port, name = node.address, node.port or profile.get("port"), node.address
    key, known = profile.get("key_file"), profile.get("known_hosts")
    return NodeTarget(
        site.code,
        name,
        address,
        port,
        profile.get("user"),
        inventory_path(inventory.root, key) if key else None,
        inventory_path(inventory.root, known) if known else None,
    )


def site_node(inventory: Inventory, code: str) -> NodeTarget:
    """The node of site ``code``; a usage error for a site without one."""
    from ccops.errors import UsageError

    site = inventory.sites.get(code)
    if site is None:
        raise UsageError(f"no site {code!r} in inventory {inventory.root}")
    refuse_offline(inventory)  # every use of a node target logs in to it
    target = node_target(inventory, site)
    if target is None:
        raise UsageError(f"{site.file}: site {code} names no execution node (site.node); its jump host runs it")
    return target
