"""Every task file a plan names exists, and the verb's playbook really reaches it.

The playbooks are walked the way Ansible would include files: plays' roles,
include_role/import_role (with tasks_from), include_tasks/import_tasks, blocks
and rescues, with the file names rendered from the variables ccops passes
(ccops_action, the OS family, the restore card type) and the include's own vars.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml

from ccops.inventory.load import load_inventory
from ccops.plan import host_actions
from ccops.verbs import OS_FAMILIES, RESTORE_CARD_TYPES, VERBS
from tests.conftest import EXAMPLE, ROOT

INCLUDE_TASKS = ("ansible.builtin.include_tasks", "ansible.builtin.import_tasks", "include_tasks", "import_tasks")
INCLUDE_ROLE = ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role")
IMPORT_PLAYBOOK = ("ansible.builtin.import_playbook", "import_playbook")


def _render(text: str, variables: dict) -> str:
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True).from_string(text).render(variables)


def _load(path: Path) -> list:
    return yaml.safe_load(path.read_text()) or []


def reachable(playbook: str, variables: dict) -> dict[str, set[str]]:
    """Task files (relative to the project) a playbook includes with these variables, each with its includers."""
    found: dict[str, set[str]] = {}

    def tasks_file(path: Path, role: str, scope: dict, includer: str) -> None:
        if not path.exists():
            raise AssertionError(f"{path.relative_to(ROOT)} is included but does not exist")
        name = str(path.relative_to(ROOT))
        found.setdefault(name, set()).add(includer)
        tasks(_load(path), role, {**scope, "__file": name})

    def tasks(items: list, role: str, scope: dict) -> None:
        for task in items:
            inner = {**scope, **(task.get("vars") or {})}
            for section in ("block", "rescue", "always"):
                tasks(task.get(section) or [], role, inner)
            for key in INCLUDE_TASKS:
                if key in task:
                    arg = task[key]
                    name = _render(arg if isinstance(arg, str) else arg["file"], inner)
                    path = ROOT / "roles" / role / "tasks" / name
                    if path.exists() or "when" not in task:  # a guarded include of nothing (card none) is skipped
                        tasks_file(path, role, inner, inner["__file"])
            for key in INCLUDE_ROLE:
                if key in task:
                    arg = task[key]
                    entry = _render(arg.get("tasks_from", "main.yml"), inner)
                    tasks_file(ROOT / "roles" / arg["name"] / "tasks" / entry, arg["name"], inner, inner["__file"])

    def play_file(path: Path) -> None:
        for play in _load(path):
            for key in IMPORT_PLAYBOOK:
                if key in play:
                    play_file(path.parent / play[key])
            scope = {**variables, "__file": str(path.relative_to(ROOT))}
            for section in ("pre_tasks", "tasks", "post_tasks"):
                tasks(play.get(section) or [], "", scope)
            for role in play.get("roles") or []:
                name = role if isinstance(role, str) else role["role"]
                tasks_file(ROOT / "roles" / name / "tasks" / "main.yml", name, scope, scope["__file"])

    play_file(ROOT / "playbooks" / playbook)
    return found


CASES = [(verb, family, card) for verb in VERBS for family in OS_FAMILIES for card in RESTORE_CARD_TYPES]


@pytest.mark.parametrize(("verb_name", "family", "card"), CASES)
def test_every_step_names_a_task_file_the_playbook_runs(verb_name, family, card):
    verb = VERBS[verb_name]
    variables = {"ccops_action": verb.action, "ccops_os_family": family, "restore_card_type": card}
    runs = reachable(verb.playbook, variables)
    for step in (*verb.steps, *verb.on_failure):
        file = step.task_file(family, card)
        if file is None:
            assert card == "none"
            continue
        assert (ROOT / file).is_file(), f"{verb_name}: {step} names {file}, which does not exist"
        assert file in runs, f"{verb_name}: {file} is in the plan but {verb.playbook} never runs it ({family}, {card})"
    # the other way round: a file that does work (includes nothing; a role's main.yml only dispatches) is
    # planned, or a part of a planned file
    planned = {s.task_file(family, card) for s in (*verb.steps, *verb.on_failure)}
    includers = {parent for parents in runs.values() for parent in parents}
    for file, parents in runs.items():
        if file not in includers and file not in planned and not file.endswith("/tasks/main.yml"):
            assert parents & planned, f"{verb_name}: {verb.playbook} runs {file} ({family}, {card}); no plan names it"


@pytest.mark.parametrize("verb_name", list(VERBS))
def test_plans_of_the_example_name_existing_files_for_both_families(verb_name):
    inventory = load_inventory(EXAMPLE)
    actions = host_actions(VERBS[verb_name], list(inventory.hosts.values()), inventory)
    families = {inventory.hosts[a.hosts[0]].os_family for a in actions}
    assert families == set(OS_FAMILIES)
    for action in actions:
        assert action.steps
        for step in (*action.steps, *action.on_failure):
            assert (ROOT / step.file).is_file(), step
