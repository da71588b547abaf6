"""The contract-test stand-ins (tests/windows/collections) against the real modules installed
with ansible.windows: every option a stand-in accepts is documented by the real module with the
same type, default and choices, the real module's required options are there, and the argument
rules (required_if, required_one_of, mutually_exclusive, required_together, required_by) are the
real .ps1 spec's. A stand-in that drifts from the module it stands for fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import ansible_collections.ansible.windows as real_collection
import pytest
import yaml

from tests.conftest import ROOT

STANDINS = ROOT / "tests/windows/collections/ansible_collections/ansible/windows/plugins/modules"
REAL = Path(real_collection.__path__[0]) / "plugins/modules"
# every collection a stand-in stands in for (community.windows, microsoft.ad too), by FQCN
STANDIN_ROOT = ROOT / "tests/windows/collections/ansible_collections"
REAL_ROOT = Path(real_collection.__path__[0]).parents[1]
RULE_KEYS = ("required_if", "required_one_of", "mutually_exclusive", "required_together", "required_by")


def _assigned(path: Path, name: str) -> Any:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == name for t in node.targets):
            return ast.literal_eval(node.value)
    return None


# --- a reader for the literal part of a PowerShell module spec: @(...) arrays, @{...} tables
_TOKEN = re.compile(
    r"""\s*(?:(@\(|@\{|[(){},;=\n])|'((?:[^']|'')*)'|"([^"]*)"|(\$true|\$false|\$null)|(-?\d+)|([A-Za-z_]\w*))"""
)


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    while pos < len(text):
        if text[pos] in " \t\r":
            pos += 1
            continue
        if text[pos] == "#":
            pos = text.find("\n", pos) if "\n" in text[pos:] else len(text)
            continue
        m = _TOKEN.match(text, pos)
        if not m:
            break  # past the literal part
        punct, single, double, const, number, word = m.groups()
        if punct is not None:
            out.append(("p", punct))
        elif single is not None or double is not None:
            out.append(("v", single.replace("''", "'") if single is not None else double))
        elif const is not None:
            out.append(("v", {"$true": True, "$false": False, "$null": None}[const.lower()]))
        elif number is not None:
            out.append(("v", int(number)))
        else:
            out.append(("w", word))
        pos = m.end()
    return out


def _value(toks: list[tuple[str, Any]], i: int) -> tuple[Any, int]:
    kind, tok = toks[i]
    if kind == "v":
        return tok, i + 1
    if tok in ("@(", "("):
        items, wrapped, i = [], [], i + 1
        while True:
            while toks[i] in (("p", "\n"), ("p", ",")):
                wrapped.append(toks[i] == ("p", ","))
                i += 1
            if toks[i] == ("p", ")"):
                break
            unary = bool(wrapped) and wrapped[-1] and not items
            value, i = _value(toks, i)
            items.append([value] if unary and tok == "@(" and isinstance(value, list) else value)
            wrapped = []
        if tok == "@(" and len(items) == 1 and isinstance(items[0], list):
            items = items[0]  # @() flattens one array; a unary comma kept it nested above
        return items, i + 1
    if tok == "@{":
        table, i = {}, i + 1
        while True:
            while toks[i] in (("p", "\n"), ("p", ";")):
                i += 1
            if toks[i] == ("p", "}"):
                return table, i + 1
            key = toks[i][1]
            assert toks[i + 1] == ("p", "="), toks[i : i + 3]
            table[key], i = _value(toks, i + 2)
    raise AssertionError(f"not a literal: {tok!r}")


def real_rules(module: str) -> dict[str, Any]:
    """The rules of the module's $spec (top level). An action plugin without a .ps1, or a
    legacy module reading its parameters one by one (Get-AnsibleParam), has none."""
    source = _real(module).with_suffix(".ps1")
    text = source.read_text() if source.exists() else ""
    if "$spec = @{" not in text:
        return {}
    spec = text[text.index("$spec = @{") :]
    spec = spec[: spec.index("\n}")]
    rules = {}
    for key in RULE_KEYS:
        m = re.search(rf"\n    {key}\s*=\s*", spec)
        if m:
            rules[key], _ = _value(_tokens(spec[m.end() :]), 0)
    return rules


def _real(module: str) -> Path:
    """The real module's files without suffix; a bare name is ansible.windows'."""
    namespace, collection, name = module.split(".") if "." in module else ("ansible", "windows", module)
    return REAL_ROOT / namespace / collection / "plugins/modules" / name


def _standin(module: str) -> Path:
    namespace, collection, name = module.split(".")
    return STANDIN_ROOT / namespace / collection / "plugins/modules" / f"{name}.py"


_LEGACY_PARAM = re.compile(r'Get-AnsibleParam -obj \$params -name "([a-z]\w*)"([^\n]*)')
_LEGACY_LIST = re.compile(r'"([^"]*)"')


def _legacy_options(text: str) -> dict[str, dict[str, Any]]:
    """The options a legacy module reads one by one (Get-AnsibleParam), as its .ps1 reads
    them: its documentation may leave some out (community.windows.win_firewall_rule's edge)."""
    lists = {m[1]: _LEGACY_LIST.findall(m[2]) for m in re.finditer(r"\n\$(\w+) = ((?:\"[^\"]*\",? ?)+)\n", text)}
    options = {}
    for name, rest in _LEGACY_PARAM.findall(text):
        option: dict[str, Any] = {}
        if m := re.search(r'-type "(\w+)"', rest):
            option["type"] = m[1]
        if m := re.search(r'-default ("[^"]*"|\$true|\$false|\d+)', rest):
            word = m[1].strip('"')
            option["default"] = {"$true": True, "$false": False}.get(word, int(word) if word.isdigit() else word)
        if m := re.search(r"-validateset ((?:\"[^\"]*\",? ?)+|\$\w+)", rest):
            option["choices"] = lists[m[1][1:]] if m[1].startswith("$") else _LEGACY_LIST.findall(m[1])
        if m := re.search(r"-aliases ((?:\"[^\"]*\",? ?)+)", rest):
            option["aliases"] = _LEGACY_LIST.findall(m[1])
        if option.get("type") == "list":
            option["elements"] = "str"  # a legacy list is of text
        option["required"] = "-failifempty $true" in rest
        options[name] = option
    return options


def documented_options(module: str) -> dict[str, dict[str, Any]]:
    real = _real(module)
    ps1 = real.with_suffix(".ps1")
    action = real.parents[1] / "action" / f"{real.name}.py"  # an action plugin takes options of its own
    legacy = ps1.exists() and "$spec = @{" not in ps1.read_text() and "Get-AnsibleParam" in ps1.read_text()
    if legacy and not action.exists():
        return _legacy_options(ps1.read_text())
    if real.with_suffix(".py").exists():
        return yaml.safe_load(_assigned(real.with_suffix(".py"), "DOCUMENTATION"))["options"]
    # microsoft.ad documents in .yml, its reboot options in a documentation fragment
    documentation = yaml.safe_load(real.with_suffix(".yml").read_text())["DOCUMENTATION"]
    options = dict(documentation["options"])
    for fragment in documentation.get("extends_documentation_fragment", []):
        namespace, collection, name = fragment.split(".")[:3]
        source = REAL_ROOT / namespace / collection / "plugins/doc_fragments" / f"{name}.py"
        if namespace != "ansible" and source.exists():
            fragment_class = next(n for n in ast.parse(source.read_text()).body if isinstance(n, ast.ClassDef))
            text = next(
                ast.literal_eval(n.value)
                for n in fragment_class.body
                if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "DOCUMENTATION"
            )
            options.update(yaml.safe_load(text).get("options") or {})
    return options


def _standins() -> list[str]:
    """Every stand-in module by FQCN (setup has its own test below)."""
    found = STANDIN_ROOT.glob("*/*/plugins/modules/*.py")
    return sorted(f"{p.parts[-5]}.{p.parts[-4]}.{p.stem}" for p in found if p.stem not in ("setup", "__init__"))


def _norm(rules: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in rules.items():
        if key == "required_by":
            out[key] = {k: sorted([v] if isinstance(v, str) else v) for k, v in value.items()}
        elif key == "required_if":
            out[key] = sorted(
                (r[0], str(r[1]), tuple(sorted(r[2])), bool(r[3]) if len(r) > 3 else False) for r in value
            )
        else:
            out[key] = sorted(tuple(sorted(group)) for group in value)
    return out


@pytest.mark.parametrize("module", _standins())
def test_each_stand_in_accepts_only_the_real_modules_options(module):
    spec = _assigned(_standin(module), "SPEC")
    documented = documented_options(module)
    for name, option in spec.items():
        assert name in documented, f"{module}: the real module has no option {name}"
        real = documented[name]
        assert option.get("type", "str") == real.get("type", "str"), f"{module}.{name}: type"
        assert option.get("default") == real.get("default"), f"{module}.{name}: default"
        assert sorted(option.get("choices") or []) == sorted(real.get("choices") or []), f"{module}.{name}: choices"
        # a task written with a real alias must not fail here (nor one the real module lacks pass)
        assert sorted(option.get("aliases") or []) == sorted(real.get("aliases") or []), f"{module}.{name}: aliases"
        assert option.get("elements") == real.get("elements"), f"{module}.{name}: list elements"
    required = {name for name, option in documented.items() if option.get("required")}
    assert required <= {n for n, o in spec.items() if o.get("required")}, f"{module}: required options"


@pytest.mark.parametrize("module", _standins())
def test_each_stand_in_enforces_the_real_modules_argument_rules(module):
    rules = _assigned(_standin(module), "RULES") or {}
    real = real_rules(module)
    # ccops never runs a module free-form: a rule naming _raw_params is kept without it
    real = {
        k: [[n for n in g if n != "_raw_params"] for g in v] if k in ("required_one_of", "mutually_exclusive") else v
        for k, v in real.items()
    }
    assert _norm(rules) == _norm(real)


def test_the_spec_reader_reads_the_shapes_the_real_modules_use():
    assert real_rules("win_package")["required_if"] == [
        ["state", "present", ["path"]],
        ["state", "absent", ["path", "product_id"], True],
    ]
    assert real_rules("win_command")["mutually_exclusive"] == [["_raw_params", "argv", "cmd"]]


def _setup_ps1_subsets() -> tuple[dict[str, str], dict[str, set[str]]]:
    """setup.ps1's subset of each fact it sets, and its grouped subsets."""
    text = (REAL / "setup.ps1").read_text()
    subset_of: dict[str, str] = {}
    subset = ""
    for line in text.splitlines():
        named = re.match(r"\s*Subsets = '([a-z_0-9]+)'", line)
        subset = named.group(1) if named else subset
        for fact in re.findall(r"\$ansibleFacts\.(ansible_\w+) =", line):
            subset_of.setdefault(fact, subset)
    listed = re.findall(r"\n\s*(\w+) = \[System\.Collections\.Generic\.List\[string\]\]@\(([^)]*)\)", text)
    return subset_of, {name: set(re.findall(r"'([a-z_0-9]+)'", members)) for name, members in listed}


def test_the_setup_stand_in_knows_each_fact_by_the_subset_setup_ps1_sets_it_in():
    """ansible_windows_domain_member comes only with the windows_domain subset (not platform):
    the stand-in returns a fact only when its real subset is gathered."""
    subset_of, groups = _setup_ps1_subsets()
    assert _assigned(STANDINS / "setup.py", "GROUPS") == groups
    standin = _assigned(STANDINS / "setup.py", "FACT_SUBSETS")
    assert {fact: subset_of.get(fact) for fact in standin} == standin
    assert standin["ansible_windows_domain_member"] == "windows_domain"
