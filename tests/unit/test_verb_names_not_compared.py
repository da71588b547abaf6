"""No code outside the registry compares a verb's name: what sets a verb apart is a hook of its entry.

A by-name branch (`if verb.name == "deploy"`) is how a new verb ends up touching fifteen files;
the registry's hooks (ccops.verbs.Verb) say it once instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import ccops
from ccops.verbs import VERBS

SOURCE = Path(ccops.__file__).parent
# the registry itself, and modules that are one verb's own (they may name that verb)
OWN_MODULES = {"verbs.py", "decommission/guards.py"}


def _names_a_verb(node: ast.expr, lists: frozenset[str] = frozenset()) -> bool:
    """A verb's name, a collection holding one, or a name ``lists`` says is bound to such a collection."""
    if isinstance(node, ast.Constant):
        return node.value in VERBS or (isinstance(node.value, str) and node.value.split(" ")[0] in VERBS)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_verb(e, lists) for e in node.elts)
    if isinstance(node, ast.Starred):
        return _names_a_verb(node.value, lists)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("set", "frozenset", "tuple"):
        return any(_names_a_verb(a, lists) for a in node.args)
    return isinstance(node, ast.Name) and node.id in lists


def verb_lists(tree: ast.AST) -> frozenset[str]:
    """Names bound to a collection of verb names (``PATCHING = ("patch", "software-apply")``), so that
    ``run.verb in PATCHING`` is caught like the inline ``run.verb in ("patch", ...)``."""
    found: set[str] = set()
    for _ in range(3):  # a list built from another (``KEPT = (*PATCHING, "rollback")``)
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                targets = [node.target]
            value = getattr(node, "value", None)
            if value is None or isinstance(value, ast.Constant) or not _names_a_verb(value, frozenset(found)):
                continue
            found.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(found)


def by_name_branches(tree: ast.AST) -> list[int]:
    """Lines where something called verb (a name, attribute or key) is compared with a verb's name,
    or tested for membership in a collection of verb names."""
    lists = verb_lists(tree)
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        about_verb = any("verb" in ast.unparse(s).lower() for s in sides if not _names_a_verb(s, lists))
        if about_verb and any(_names_a_verb(s, lists) for s in sides):
            lines.append(node.lineno)
    return lines


def test_no_module_branches_on_a_verb_name() -> None:
    found = [
        f"{path.relative_to(SOURCE)}:{line}"
        for path in sorted(SOURCE.rglob("*.py"))
        if path.name not in OWN_MODULES
        for line in by_name_branches(ast.parse(path.read_text(), str(path)))
    ]
    assert found == [], "compare a hook of the verb's registry entry instead: " + ", ".join(found)


def test_the_check_sees_the_branches_it_forbids() -> None:
    branches = """
if verb.name == "decommission": pass
if self.verb.name in ("inspect", "deploy"): pass
if record.verb != 'rollback': pass
if prepared.verb.name == "decommission" or True: pass
"""
    allowed = """
if verb.after_batch: pass
if report.get("outcome") == "inspected": pass
if name == "decommission": pass
"""
    assert by_name_branches(ast.parse(branches)) == [2, 3, 4, 5]
    assert by_name_branches(ast.parse(allowed)) == []


def test_the_check_sees_a_membership_in_a_named_collection_of_verb_names() -> None:
    # report/reverted.py once held EXPECTING and RESETTING like this, out of reach of the inline check
    branches = """
EXPECTING = ("patch", "software-apply")
RESETTING: frozenset[str] = frozenset({"rollback", "deploy"})
KEPT = (*EXPECTING, *RESETTING)
if run.verb in EXPECTING: pass
if record.verb not in RESETTING: pass
if verb_name in KEPT: pass
"""
    allowed = """
OUTCOMES = ("ok", "changed")
NAMES = ("patch",)
if run.verb in OUTCOMES: pass
if entry.get("outcome") in NAMES: pass
if verb.leaves_versions: pass
"""
    assert by_name_branches(ast.parse(branches)) == [5, 6, 7]
    assert by_name_branches(ast.parse(allowed)) == []


def test_every_verb_a_schedule_may_fire_allows_a_standing_change() -> None:
    # the registry's change-id rule says which verbs run unattended under a schedule's standing change
    from ccops.schedule.model import COMMANDS

    assert [run for run, verb in COMMANDS.items() if not VERBS[verb].may_stand] == []
    assert not VERBS["decommission"].may_stand and not VERBS["rollback"].may_stand
