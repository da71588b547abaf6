"""A machine's identity as a host reports it, parsed once on the controller.

A backup belongs to a machine, not to a name (roles/backup/tasks/backup.yml refuses one
without an identity; verify.yml refuses another machine's). The host's answer is untrusted:
Windows' MachineGuid comes back as whatever the registry holds (null when the value is gone,
a number or a list from a damaged key), so only text of the shape an identity has counts.

ccops_machine_identity(reported) -> the identity, or "" when the host reported none that fits.
"""

from __future__ import annotations

import re
from typing import Any

# MachineGuid (8-4-4-4-12 hex digits) and /etc/machine-id (32 hex digits) both fit.
IDENTITY = re.compile(r"[0-9A-Fa-f][0-9A-Fa-f\-]{15,63}")


def ccops_machine_identity(reported: Any) -> str:
    if not isinstance(reported, str):
        return ""
    text = reported.strip()
    return text if IDENTITY.fullmatch(text) else ""


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"ccops_machine_identity": ccops_machine_identity}
