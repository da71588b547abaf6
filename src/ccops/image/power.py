"""Powering a machine on into its network boot: the lab's QEMU machines, or a person.

A site's power control (IPMI, Wake-on-LAN) would go here; the lab's machines
are QEMU processes ccops starts itself, network boot first. Anything else is
powered on by whoever stands next to it, which ccops says.
"""

from __future__ import annotations

from ccops.inventory.model import Host


def power_on_into_netboot(host: Host) -> str:
    """How the machine was powered on: "lab (QEMU pid N)", or "" when a person must do it."""
    from ccops.lab import vms

    for vm in vms.known():
        if vm.name == host.name and vm.mac == host.mac:
            vms.stop(vm)  # a machine already on (a failed earlier try, a rebuild) starts over
            return f"lab (QEMU pid {vms.start(vm, netboot_first=True)})"
    return ""
