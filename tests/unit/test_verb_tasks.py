"""Every task file a plan names exists, and the verb's playbook really reaches it.

The playbooks are walked the way Ansible would include files: plays' roles,
include_role/import_role (with tasks_from), include_tasks/import_tasks, blocks
and rescues, with the file names rendered from the variables ccops passes
(ccops_action, the OS family, the restore card type), the include's own vars
and the role's default action (<role>_action in its defaults/main.yml).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml

from ccops.inventory.load import load_inventory
from ccops.plan.build import host_actions
from ccops.verbs import OS_FAMILIES, RESTORE_CARD_TYPES, VERBS
from tests.conftest import EXAMPLE, ROOT

INCLUDE_TASKS = ("ansible.builtin.include_tasks", "ansible.builtin.import_tasks", "include_tasks", "import_tasks")
INCLUDE_ROLE = ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role")
IMPORT_PLAYBOOK = ("ansible.builtin.import_playbook", "import_playbook")


def _render(text: str, variables: dict) -> str:
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True).from_string(text).render(variables)


def _load(path: Path) -> list:
    # libyaml's safe loader: the same documents, parsed in a tenth of the time (this file reads every role)
    return yaml.load(path.read_text(), Loader=yaml.CSafeLoader) or []


def _role_scope(role: str, scope: dict) -> dict:
    """The scope inside a role: the includer's variables over the role's default action."""
    defaults_file = ROOT / "roles" / role / "defaults" / "main.yml"
    defaults = (_load(defaults_file) or {}) if defaults_file.exists() else {}
    action = f"{role}_action"
    if action in defaults and action not in scope:
        return {**scope, action: _render(str(defaults[action]), scope)}
    return scope


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
                    tasks_file(
                        ROOT / "roles" / arg["name"] / "tasks" / entry,
                        arg["name"],
                        _role_scope(arg["name"], inner),
                        inner["__file"],
                    )

    def play_file(path: Path) -> None:
        for play in _load(path):
            for key in IMPORT_PLAYBOOK:
                if key in play:
                    play_file(path.parent / play[key])
            scope = {**variables, "__file": str(path.relative_to(ROOT))}
            for section in ("pre_tasks", "tasks", "post_tasks"):
                tasks(play.get(section) or [], "", scope)
            for role in play.get("roles") or []:
                entry = {"role": role} if isinstance(role, str) else role
                name = entry["role"]
                params = {k: v for k, v in entry.items() if k not in ("role", "vars")}
                inner = _role_scope(name, {**scope, **params, **(entry.get("vars") or {})})
                if (ROOT / "roles" / name / "tasks").is_dir():  # roles/ccops holds plugins and defaults only
                    tasks_file(ROOT / "roles" / name / "tasks" / "main.yml", name, inner, scope["__file"])

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
        if file is None:  # a card step without a card, or a step for the other OS family
            assert card == "none" or family not in step.families
            continue
        assert (ROOT / file).is_file(), f"{verb_name}: {step} names {file}, which does not exist"
        assert file in runs, f"{verb_name}: {file} is in the plan but {verb.playbook} never runs it ({family}, {card})"
    # the other way round: a file that does work (includes nothing; a role's main.yml only dispatches) is
    # planned, or a part of a planned file
    planned = {s.task_file(family, card) for s in (*verb.steps, *verb.on_failure)}
    includers = {parent for parents in runs.values() for parent in parents}
    # a file written once for every OS family (an action's <action>.yml, say) is a part of the planned steps
    # it orchestrates: its small OS-specific parts (roles/patch mark_<family>.yml, say) are too, as its lines are
    written_once = {f for f in runs if _written_once(f)}
    for file, parents in runs.items():
        if file not in includers and file not in planned and not _is_main(file):
            assert parents & (planned | written_once), (
                f"{verb_name}: {verb.playbook} runs {file} ({family}, {card}); no plan names it"
            )


def _is_main(file: str) -> bool:
    return file.endswith("/tasks/main.yml")


def _written_once(file: str) -> bool:
    return not _is_main(file) and not file.endswith(tuple(f"_{family}.yml" for family in OS_FAMILIES))


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


ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())
VARIANT_VARS = ["{{ ccops_os }}.yml", "{{ ccops_os_family }}.yml"]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_dispatches_the_same_way(role):
    """docs (adding a verb), "How a role is written": variant vars by first_found, then <role>_action's file."""
    main = _load(ROOT / "roles" / role / "tasks" / "main.yml")
    load_vars, dispatch = main
    assert load_vars["ansible.builtin.include_vars"] == {"file": "{{ item }}"}
    assert load_vars["loop"] == f"{{{{ query('ansible.builtin.first_found', {role}_vars_files) }}}}"
    assert load_vars["vars"][f"{role}_vars_files"] == {
        "files": VARIANT_VARS,
        "paths": ["{{ role_path }}/vars"],
        "skip": True,
    }
    # restore_card's documented exception: its file is the card type, which handles every action.
    # An action written once for every OS family is <action>.yml, its OS-specific steps <step>_<family>.yml.
    expected = (
        ("{{ restore_card_type }}.yml",)
        if role == "restore_card"
        else (f"{{{{ {role}_action }}}}_{{{{ ccops_os_family }}}}.yml", f"{{{{ {role}_action }}}}.yml")
    )
    assert dispatch["ansible.builtin.include_tasks"] in expected
    text = (ROOT / "roles" / role / "tasks" / "main.yml").read_text()
    assert text.startswith("---\n# Dispatch, the same in every ccops role"), "the convention is written at the top"
    assert f"{role}_action" in text


def _ansible_files() -> list[Path]:
    return sorted([*(ROOT / "playbooks").glob("*.yml"), *(ROOT / "roles").glob("*/tasks/*.yml")])


def _all_tasks(items: list):
    for task in items or []:
        yield task
        for section in ("pre_tasks", "tasks", "post_tasks", "block", "rescue", "always"):
            yield from _all_tasks(task.get(section))


def test_no_playbook_or_role_reaches_into_another_roles_files_by_path():
    for path in _ansible_files():
        for task in _all_tasks(_load(path)):
            for key in ("ansible.builtin.include_vars", "include_vars", *INCLUDE_TASKS):
                arg = task.get(key)
                text = str(arg.get("file", "") if isinstance(arg, dict) else arg or "")
                assert "roles/" not in text and "playbook_dir" not in text, f"{path.relative_to(ROOT)}: {text}"


def test_every_report_names_its_outcome_and_reason():
    """docs/development/adding-a-verb.md, "What roles hand back": every ccops_report carries outcome and reason."""
    reports = []
    for path in _ansible_files():
        for task in _all_tasks(_load(path)):
            assert "ccops_report" not in (task.get("ansible.builtin.set_fact") or {}), path  # one way: roles/ccops
            report = (task.get("ccops_report") or {}).get("report")
            if report is not None:
                reports.append((path.relative_to(ROOT), report))
    assert len(reports) >= 8  # inspect (2), patch (patching, patched, rolled back; x2), busy, up to date, rollback
    for path, report in reports:
        if isinstance(report, dict):
            assert {"outcome", "reason"} <= set(report), path
        else:  # a template that builds the dict
            assert "'outcome':" in report and "'reason':" in report, path
