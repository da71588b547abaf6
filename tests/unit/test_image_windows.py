"""Windows re-imaging: plans name the real task files, and every ansible.windows task uses the module's real options.

Windows cannot run here: these playbooks are proven by syntax check and lint
(tests/ansible) and by these plan and parameter checks, never by a run.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import yaml

from ccops.inventory.load import load_inventory
from ccops.plan import host_actions
from ccops.verbs import VERBS
from tests.conftest import EXAMPLE, ROOT

FILES = [
    ROOT / "roles" / "deploy" / "tasks" / "netboot_windows.yml",
    ROOT / "roles" / "deploy" / "tasks" / "converge_windows.yml",
    ROOT / "playbooks" / "stage_wim.yml",
]
TASK_KEYS = {"name", "register", "when", "changed_when", "failed_when", "become", "loop", "vars", "tags"}


def module_options(fqcn: str) -> set[str]:
    """The options a module documents (its DOCUMENTATION block), with their aliases."""
    _, collection, name = fqcn.split(".", 2)
    spec = importlib.util.find_spec(f"ansible_collections.ansible.{collection}.plugins.modules")
    assert spec is not None and spec.submodule_search_locations, fqcn
    folder = Path(next(iter(spec.submodule_search_locations)))
    if (folder / f"{name}.py").is_file():  # DOCUMENTATION in the Python stub
        tree = ast.parse((folder / f"{name}.py").read_text())
        text = next(
            node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and getattr(node.targets[0], "id", "") == "DOCUMENTATION"
            and isinstance(node.value, ast.Constant)
        )
        doc = yaml.safe_load(text)
    else:  # a PowerShell-only module documents itself in NAME.yml
        doc = yaml.safe_load((folder / f"{name}.yml").read_text())["DOCUMENTATION"]
    out = set(doc.get("options") or {})
    for option in (doc.get("options") or {}).values():
        out |= set(option.get("aliases") or [])
    return out


def tasks(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text())
    if data and "hosts" in data[0]:
        return [t for play in data for t in play.get("tasks") or []]
    return data


def test_every_windows_task_uses_options_its_module_has():
    seen = set()
    for path in FILES:
        for task in tasks(path):
            for key, args in task.items():
                if key.startswith("ansible.windows."):
                    seen.add(key)
                    unknown = set(args) - module_options(key)
                    assert not unknown, f"{path.name}: {task['name']}: {key} has no option {sorted(unknown)}"
    assert {"ansible.windows.win_stat", "ansible.windows.win_command", "ansible.windows.win_copy"} <= seen


def test_the_next_boot_is_set_with_argv_never_a_command_line():
    for task in tasks(FILES[0]):
        command = task.get("ansible.windows.win_command")
        if command is not None:
            assert set(command) == {"argv"}, task["name"]
    text = FILES[0].read_text()
    assert "bootsequence" in text and "checksum_algorithm: sha256" in text


def test_plans_for_windows_seats_name_the_network_reimage():
    inventory = load_inventory(EXAMPLE)
    seats = [h for h in inventory.hosts.values() if h.os == "win11"][:3]
    actions = host_actions(VERBS["reimage"], seats, inventory)
    assert [s.file for a in actions for s in a.steps] == ["roles/deploy/tasks/netboot_windows.yml"]
    actions = host_actions(VERBS["deploy"], seats, inventory)
    assert [s.file for a in actions for s in a.steps] == [
        "roles/backup/tasks/backup_windows.yml",
        "roles/deploy/tasks/converge_windows.yml",
        "roles/asset/tasks/inspect_windows.yml",
        "roles/deploy/tasks/report_windows.yml",
    ]
