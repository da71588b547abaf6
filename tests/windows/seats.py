"""The seats of the shared patch run (tests/windows/conftest.py, patch_runs)."""

from __future__ import annotations

from tests.windows.harness import APP_PATH, LCU, OTHER_APP_PATH, SECRET, seat_state

BROKEN_SOFTPHONE = {"WinRM": {}, "ContosoSoftphone": {"broken_by": LCU}}


def _with_update_writes(state: dict) -> dict:
    state["pending_updates"][0].update(
        {
            "writes": {
                APP_PATH: "softphone settings the update rewrote",
                OTHER_APP_PATH: "data drive settings the update rewrote",
            }
        }
    )
    return state


PATCH_SEATS = {
    # healthy seat whose services are still starting right after the reboot
    # its allow-list is a regular expression in another case, as win_updates reads it
    "plain": (
        seat_state(settle_polls=2, listening={"5060": ["plain.cc.example"]}),
        {"patch_health_ports": [5060], "patch_allow": ["cumulative update .* \\(kb5044285\\)"]},
    ),
    # --reboot never: the update stays InstallPending; its delayed-start service starts late after every boot
    "never": (
        seat_state(services={"WinRM": {}, "ContosoSoftphone": {"start_mode": "delayed", "delayed_polls": 2}}),
        {"ccops_reboot": "never"},
    ),
    "lowspace": (seat_state(free_mb=5000), {}),
    "locked": (seat_state(fail={"archive": "tar.exe exited 1 (unreadable or locked files): Couldn't open ..."}), {}),
    # MachineGuid is gone from the registry: the backup script reports machine_id null
    "noguid": (seat_state(machine_guid=None), {}),
    "uwf": (seat_state(uwf={"current": True, "next": True}), {"patch_restore_card": "uwf"}),
    "uwfnever": (
        seat_state(uwf={"current": True, "next": True}),
        {"patch_restore_card": "uwf", "ccops_reboot": "never"},
    ),
    "uwfmissing": (seat_state(), {"patch_restore_card": "uwf"}),
    # unhealthy after the update, and its health command cannot even start
    "unhealthy": (
        _with_update_writes(
            seat_state(
                uwf={"current": True, "next": True},
                services=BROKEN_SOFTPHONE,
                commands={"C:\\Tools\\softphone-check.exe": "missing"},
            )
        ),
        {
            "patch_restore_card": "uwf",
            "backup_paths": [APP_PATH, OTHER_APP_PATH],
            "patch_health_commands": [["C:\\Tools\\softphone-check.exe", "--quick"]],
        },
    ),
    # unhealthy after the update, and its backup's package list is an empty list (W1: remove nothing)
    "emptylist": (
        seat_state(uwf={"current": True, "next": True}, services=BROKEN_SOFTPHONE, backup_packages_json="[]"),
        {"patch_restore_card": "uwf"},
    ),
    "df": (
        seat_state(
            deepfreeze={
                "frozen": True,
                "next_frozen": True,
                "dfc": "C:\\Windows\\SysWOW64\\DFC.exe",
                "password": SECRET,
            }
        ),
        {"patch_restore_card": "deepfreeze"},
    ),
    "dfthawed": (
        seat_state(
            deepfreeze={
                "frozen": False,
                "next_frozen": False,
                "dfc": "C:\\Windows\\SysWOW64\\DFC.exe",
                "password": SECRET,
            }
        ),
        {"patch_restore_card": "deepfreeze"},
    ),
    "dfbadpassword": (
        seat_state(
            deepfreeze={
                "frozen": True,
                "next_frozen": True,
                "dfc": "C:\\Windows\\SysWOW64\\DFC.exe",
                "password": "another",
            }
        ),
        {"patch_restore_card": "deepfreeze"},
    ),
}
