"""Powering a machine on into its network boot: a power control that knows the machine, or a person.

A power control is a function ``Host -> str`` offered under the entry point group ``ccops.power_controls``
(pyproject.toml): it powers on a machine it controls and says how ("lab (QEMU pid N)"), or answers ""
for a machine that is not its own. The lab's QEMU machines offer one; a site's power control (IPMI,
Wake-on-LAN) would be another. The product finds the controls installed and never imports the lab.
Anything no control knows is powered on by whoever stands next to it, which ccops says.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from ccops.inventory.model import Host

GROUP = "ccops.power_controls"
PowerControl = Callable[[Host], str]


def installed_controls() -> list[PowerControl]:
    """The power controls installed with ccops, in the order of their names."""
    found = sorted(entry_points(group=GROUP), key=lambda point: point.name)
    return [point.load() for point in found]


def power_on_into_netboot(host: Host, controls: Sequence[PowerControl] | None = None) -> str:
    """How the machine was powered on, by the first control that knows it; "" when a person must do it."""
    for control in installed_controls() if controls is None else controls:
        how = control(host)
        if how:
            return how
    return ""
