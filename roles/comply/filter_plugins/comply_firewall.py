"""comply_firewall_lockout: why a host's firewall policy would shut this controller out of SSH, or "".

Runs on the controller, before a fix writes anything, with ccops.inventory.firewall: the rule set is
evaluated in the order nftables evaluates it (the deny list before every allow rule), the
same evaluator ``ccops inventory validate`` asks. ``controller`` is the address the host sees
this controller come from (SSH_CONNECTION, host-reported: anything but an IP address is refused).
"""

from __future__ import annotations

from typing import Any

from ccops.inventory.firewall import lockout


def comply_firewall_lockout(firewall: Any, controller: Any, port: Any) -> str:
    if not isinstance(firewall, dict):
        return ""
    try:
        ssh_port = int(port)
    except (TypeError, ValueError):
        return f"the SSH port {port!r} is not a number"
    return lockout(firewall, str(controller or ""), ssh_port)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"comply_firewall_lockout": comply_firewall_lockout}
