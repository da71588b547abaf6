# Contract-test stand-in for ansible.windows.win_reboot. See module_utils/fakewin.py.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import reboot, run

SPEC = {
    "reboot_timeout": {"type": "float", "default": 600, "aliases": ["reboot_timeout_sec"]},
    "pre_reboot_delay": {"type": "float", "default": 2, "aliases": ["pre_reboot_delay_sec"]},
    "post_reboot_delay": {"type": "float", "default": 0, "aliases": ["post_reboot_delay_sec"]},
    "connect_timeout": {"type": "float", "default": 5, "aliases": ["connect_timeout_sec"]},
    "test_command": {"type": "str"},
    "msg": {"type": "str", "default": "Reboot initiated by Ansible"},
    "boot_time_command": {
        "type": "str",
        "default": "(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime)"
        ".LastBootUpTime.ToFileTime()",
    },
}


def handle(params, state):
    if state.get("fail", {}).get("reboot"):
        return "win_reboot", {"failed": True, "rebooted": True, "elapsed": 0.0, "msg": state["fail"]["reboot"]}
    reboot(state)
    return "win_reboot", {"changed": True, "rebooted": True, "elapsed": 1.0}


if __name__ == "__main__":
    run("win_reboot", SPEC, handle)
