"""comply_win_lockout: why the Windows Firewall rules a fix writes would shut the site's management
addresses out of WinRM, or "" (ccops.windows.lockout; decided on the controller before anything is written)."""

from __future__ import annotations

from typing import Any

from ccops.windows.lockout import winrm_lockout


def comply_win_lockout(firewall: Any, management: Any, port: Any) -> str:
    return winrm_lockout(firewall, management if isinstance(management, list) else [], port)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"comply_win_lockout": comply_win_lockout}
