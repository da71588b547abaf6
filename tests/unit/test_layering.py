"""The import layering of src/ccops: a package stands on lower ones, never on a higher one, never in a circle.

LAYERS, bottom first, is the dependency direction docs/development/architecture.md describes. Every
import counts, those made inside functions too; only imports under ``if TYPE_CHECKING:`` are left out
(annotations, never run). Product code never imports the development lab: the lab stands on the product.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "ccops"

# bottom first; packages in one layer may import each other, but never in a circle
LAYERS: tuple[tuple[str, ...], ...] = (
    ("ccops",),  # the flat modules: errors, paths, processes, locks, checksums, verbs
    ("text",),
    ("windows",),
    ("hostdata",),
    ("store",),
    ("inventory",),
    ("decommission",),
    ("runner",),
    ("node",),
    ("plan",),
    ("run",),
    ("image", "software", "content"),
    ("report",),
    ("vulns",),
    ("remediate",),
    ("quarantine",),
    ("notify",),
    ("schedule",),
    ("lab",),  # the development lab, standing on the product
    ("cli", "ansible_plugins"),
)
MAY_IMPORT_LAB = frozenset({"lab", "cli"})  # cli/lab_cmd.py is the lab's own command

# Upward imports that are still there, each with what removes it (issue 21). A new one fails the
# test; a paid one fails it too, until it is taken off this list.
KNOWN_DEBTS: dict[tuple[str, str], str] = {}


def packages(root: Path) -> set[str]:
    return {path.parent.name for path in root.glob("*/__init__.py")}


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([root.name, *parts])


def package_of(module: str, known: set[str]) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in known else parts[0]


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, inside functions too, except the bodies of ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.If) and _type_checking(child):
            yield from (n for stmt in child.orelse for n in [stmt, *_nodes(stmt)])
            continue
        yield child
        yield from _nodes(child)


def imports_of(path: Path, module: str, modules: set[str]) -> set[str]:
    """The ccops modules one file imports (a name imported from a package counts as its module if it is one)."""
    top = module.partition(".")[0]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == top)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != top:
                continue
            for alias in node.names:
                inner = f"{source}.{alias.name}"
                found.add(inner if inner in modules else source)
    return found - {module}


def module_imports(root: Path) -> dict[str, set[str]]:
    files = {module_name(root, path): path for path in sorted(root.rglob("*.py"))}
    return {module: imports_of(path, module, set(files)) for module, path in files.items()}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def violations(
    imports: dict[str, set[str]],
    known: set[str],
    layers: tuple[tuple[str, ...], ...] = LAYERS,
    debts: dict[tuple[str, str], str] = KNOWN_DEBTS,
) -> list[str]:
    rank = {package: level for level, group in enumerate(layers) for package in group}
    found: list[str] = []
    across: dict[str, set[str]] = {}
    seen_debts: set[tuple[str, str]] = set()
    for importer, targets in sorted(imports.items()):
        source = package_of(importer, known)
        if source not in rank:
            found.append(f"{importer}: package {source!r} has no layer; add it to LAYERS and the architecture page")
            continue
        for target in sorted(targets):
            dest = package_of(target, known)
            if dest == source or dest not in rank:
                continue
            if (importer, target) in debts:
                seen_debts.add((importer, target))
                continue
            across.setdefault(source, set()).add(dest)
            if dest == "lab" and source not in MAY_IMPORT_LAB:
                found.append(f"{importer} imports {target}: product code must not import the lab")
            elif rank[source] < rank[dest]:
                found.append(f"{importer} imports {target}: upward ({source} sits below {dest})")
    for group in _cycles(across):
        found.append("import cycle between packages: " + " <-> ".join(group))
    for debt in sorted(set(debts) - seen_debts):
        found.append(f"{debt[0]} no longer imports {debt[1]}: take it off KNOWN_DEBTS")
    return found


def check(
    root: Path, layers: tuple[tuple[str, ...], ...] = LAYERS, debts: dict[tuple[str, str], str] = KNOWN_DEBTS
) -> list[str]:
    return violations(module_imports(root), packages(root), layers, debts)


def test_src_ccops_keeps_its_layering() -> None:
    assert check(SRC) == []


def test_every_package_has_a_layer() -> None:
    placed = {package for group in LAYERS for package in group}
    assert packages(SRC) <= placed


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "ccops"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


SYNTHETIC_LAYERS = (("ccops",), ("low",), ("mid_a", "mid_b"), ("lab",), ("cli",))
BASE = {
    "errors.py": "",
    "low/__init__.py": "",
    "low/things.py": "from ccops.errors import *\n",
    "mid_a/__init__.py": "",
    "mid_a/one.py": "from ccops.low.things import x\n",
    "mid_b/__init__.py": "",
    "mid_b/two.py": "from ccops.mid_a import one\n",
    "lab/__init__.py": "",
    "lab/fleet.py": "from ccops.mid_b.two import y\n",
    "cli/__init__.py": "",
    "cli/main.py": "from ccops.lab import fleet\nfrom ccops.mid_b import two\n",
}


def synthetic(tmp_path: Path, **planted: str) -> list[str]:
    files = dict(BASE)
    for name, line in planted.items():
        path = name.replace("__", "/") + ".py"
        files[path] = files.get(path, "") + line
    return check(tree(tmp_path, files), layers=SYNTHETIC_LAYERS, debts={})


def test_a_sound_tree_passes(tmp_path: Path) -> None:
    assert synthetic(tmp_path) == []


@pytest.mark.parametrize(
    ("planted", "expected"),
    [
        # an upward import made inside a function, as the old circle was tied
        (
            {"low__things": "def f():\n    from ccops.mid_a.one import x\n"},
            "ccops.low.things imports ccops.mid_a.one: upward",
        ),
        ({"low__things": "import ccops.cli.main as m\n"}, "ccops.low.things imports ccops.cli.main: upward"),
        ({"low__things": "from ..mid_b import two\n"}, "ccops.low.things imports ccops.mid_b.two: upward"),
        ({"errors": "from ccops.low import things\n"}, "ccops.errors imports ccops.low.things: upward"),
        # two packages of one layer in a circle
        (
            {"mid_a__one": "def g():\n    from ccops.mid_b import two\n"},
            "import cycle between packages: mid_a <-> mid_b",
        ),
        # product code standing on the lab, even a layer below it
        ({"mid_b__two": "from ccops.lab.fleet import z\n"}, "ccops.mid_b.two imports ccops.lab.fleet: product code"),
        ({"newpkg__x": "from ccops.low import things\n"}, "package 'newpkg' has no layer"),
    ],
)
def test_a_planted_import_fails_the_check(tmp_path: Path, planted: dict[str, str], expected: str) -> None:
    if "newpkg__x" in planted:
        (tmp_path / "ccops" / "newpkg").mkdir(parents=True)
        (tmp_path / "ccops" / "newpkg" / "__init__.py").write_text("")
    found = synthetic(tmp_path, **planted)
    assert any(expected in line for line in found), found


def test_imports_only_for_annotations_do_not_count(tmp_path: Path) -> None:
    planted = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ccops.cli.main import Thing\n"
    assert synthetic(tmp_path, low__things=planted) == []
    planted_else = planted + "else:\n    from ccops.cli import main\n"
    assert synthetic(tmp_path, low__things=planted_else) != []


def test_a_debt_paid_must_leave_the_list(tmp_path: Path) -> None:
    root = tree(tmp_path, BASE)
    found = check(root, layers=SYNTHETIC_LAYERS, debts={("ccops.low.things", "ccops.cli.main"): "gone"})
    assert found == ["ccops.low.things no longer imports ccops.cli.main: take it off KNOWN_DEBTS"]


def test_an_upward_import_planted_in_a_copy_of_src_fails(tmp_path: Path) -> None:
    copy = tmp_path / "ccops"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    records = copy / "store" / "records.py"
    records.write_text(records.read_text() + "\n\ndef _planted():\n    from ccops.run import execute\n")
    found = check(copy)
    assert found[0] == "ccops.store.records imports ccops.run.execute: upward (store sits below run)"
    assert found[1].startswith("import cycle between packages: ") and "run <-> " in found[1]
    assert len(found) == 2
