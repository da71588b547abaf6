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


def _names_a_verb(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in VERBS or (isinstance(node.value, str) and node.value.split(" ")[0] in VERBS)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_names_a_verb(e) for e in node.elts)
    return False


def by_name_branches(tree: ast.AST) -> list[int]:
    """Lines where something called verb (a name, attribute or key) is compared with a verb's name."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        about_verb = any("verb" in ast.unparse(s).lower() for s in sides if not _names_a_verb(s))
        if about_verb and any(_names_a_verb(s) for s in sides):
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
