"""The Windows decommission tasks use real collection modules with parameters those modules document.

Windows cannot run here: this, the syntax check and ansible-lint are what prove these files.
"""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import BIN, ROOT

COLLECTIONS = next((BIN.parent / "lib").glob("python3*/site-packages/ansible_collections"))
FILES = sorted((ROOT / "roles" / "decommission" / "tasks").glob("*_windows.yml"))


def _options(module: str) -> set[str]:
    namespace, name, short = module.split(".")
    folder = COLLECTIONS / namespace / name / "plugins" / "modules"
    if (folder / f"{short}.yml").exists():
        doc = yaml.safe_load((folder / f"{short}.yml").read_text())["DOCUMENTATION"]
    else:
        text = (folder / f"{short}.py").read_text()
        doc = yaml.safe_load(re.search(r"DOCUMENTATION = r?(['\"]{3})(.*?)\1", text, re.S).group(2))
    return set(doc["options"])


def _tasks(items):
    for task in items or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


def _check_modules(path) -> int:
    """How many collection module calls the file makes; each one's parameters are checked."""
    checked = 0
    for task in _tasks(yaml.safe_load(path.read_text())):
        for key, args in task.items():
            if key.startswith(("ansible.windows.", "microsoft.ad.", "community.windows.")) and isinstance(args, dict):
                unknown = set(args) - _options(key)
                assert not unknown, f"{path.name}: {task['name']}: {key} has no option {sorted(unknown)}"
                checked += 1
    return checked


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_module_parameter_is_one_the_collection_documents(path):
    _check_modules(path)


def test_the_windows_steps_are_checked_module_by_module():
    # a parse that finds nothing would pass every file above: the Windows steps make about twenty calls
    assert sum(_check_modules(path) for path in FILES) >= 15


def test_the_windows_path_revokes_with_the_modules_the_issue_names():
    text = "".join(p.read_text() for p in FILES)
    for module in (
        "microsoft.ad.membership",
        "ansible.windows.win_user:",
        "ansible.windows.win_user_right",
        "ansible.windows.win_certificate_store",
        "ansible.windows.win_user_profile",
        "cipher.exe",
    ):
        assert module in text, module


def test_the_leave_password_is_an_option_the_module_itself_keeps_out_of_logs():
    # no task-level no_log: a failure must say why; the module's spec masks the password
    spec = (COLLECTIONS / "microsoft/ad/plugins/modules/membership.ps1").read_text()
    password = re.search(r"domain_admin_password = @\{(.*?)\}", spec, re.S).group(1)
    assert "no_log = $true" in password
