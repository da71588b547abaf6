"""Contract-run support for the comply and decommission tests, on top of harness.py (unchanged).

harness.run_contract runs the real playbooks with the stand-in collections under
harness.HERE. The comply and decommission paths run scripts the win_powershell stand-in
has no model for, and need the domain fact of ansible.windows.setup; this module builds a
copy of the stand-in tree in which win_powershell also knows the scripts of
module_utils/fakewin_windecom.py and setup also reports ansible_windows_domain_member from
the seat's model, and points the harness at that copy for one test module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.windows import harness

MACHINE = "S-1-5-21-1111111111-2222222222-3333333333"
DOMAIN_SID = "S-1-5-21-7777777777-8888888888-9999999999"
POWERSHELL_EXTRA = """
from ansible_collections.ansible.windows.plugins.module_utils.fakewin_windecom import (  # noqa: E402
    READ_ONLY as _WINDECOM_READ_ONLY,
    SCRIPTS as _WINDECOM_SCRIPTS,
)

SCRIPTS[:0] = _WINDECOM_SCRIPTS
_windecom_handle = handle


def handle(params, state):  # noqa: F811 (the stand-in's handle, plus read-only models that change nothing)
    op, result = _windecom_handle(params, state)
    if op in _WINDECOM_READ_ONLY:
        result["changed"] = False
    return op, result

"""
SETUP_EXTRA = """
_windecom_handle = handle


def handle(params, state):  # noqa: F811 (platform facts: whether the seat is a domain member)
    op, result = _windecom_handle(params, state)
    result["ansible_facts"]["ansible_windows_domain_member"] = bool(state.get("domain"))
    return op, result

"""


def _insert_before_main(path: Path, extra: str) -> None:
    text = path.read_text()
    marker = 'if __name__ == "__main__":'
    assert marker in text, path
    path.write_text(text.replace(marker, extra + marker, 1))


def stand_in_tree(folder: Path) -> Path:
    """A copy of tests/windows' stand-ins with the comply and decommission models added."""
    shutil.copytree(harness.HERE / "collections", folder / "collections")
    (folder / "plugins").symlink_to(harness.HERE / "plugins")
    modules = folder / "collections" / "ansible_collections" / "ansible" / "windows" / "plugins" / "modules"
    _insert_before_main(modules / "win_powershell.py", POWERSHELL_EXTRA)
    _insert_before_main(modules / "setup.py", SETUP_EXTRA)
    return folder


def local_user(rid: int, enabled: bool = True, full_name: str = "") -> dict:
    return {"sid": f"{MACHINE}-{rid}", "enabled": enabled, "full_name": full_name, "password": ""}
