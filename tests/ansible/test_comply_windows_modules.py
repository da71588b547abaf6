"""The Windows comply tasks call modules that exist, with parameters those modules document.

Windows cannot run here; this reads each module's DOCUMENTATION from the installed
ansible.windows / community.windows collections and checks every argument a task
passes (and every choice it passes literally) against it.
"""

from __future__ import annotations

import importlib

import pytest
import yaml

from tests.conftest import ROOT

TASK_KEYS = {"name", "when", "loop", "loop_control", "register", "become", "changed_when", "vars", "notify", "tags"}
FILES = ["apply_windows.yml", "state_windows.yml"]


def _tasks(name: str) -> list[tuple[str, dict]]:
    out = []
    for task in yaml.safe_load((ROOT / "roles" / "comply" / "tasks" / name).read_text()):
        module = next(k for k in task if k not in TASK_KEYS)
        out.append((module, task[module]))
    return out


def _options(fqcn: str) -> dict:
    namespace, collection, module = fqcn.split(".")
    doc = importlib.import_module(f"ansible_collections.{namespace}.{collection}.plugins.modules.{module}")
    return yaml.safe_load(doc.DOCUMENTATION)["options"]


@pytest.mark.parametrize(("module", "args"), [t for f in FILES for t in _tasks(f) if t[0].count(".") == 2])
def test_every_argument_is_a_documented_option(module, args):
    if module.startswith("ansible.builtin."):
        return
    assert module.startswith(("ansible.windows.", "community.windows.")), module
    options = _options(module)
    names = {n for name, o in options.items() for n in (name, *o.get("aliases", []))}
    for key, value in args.items():
        assert key in names, f"{module} has no option {key!r}"
        choices = options.get(key, {}).get("choices")
        if choices and isinstance(value, str) and "{{" not in value:
            assert value in [str(c) for c in choices], f"{module} {key}={value!r}; choices {choices}"
        if choices and isinstance(value, list):
            assert {str(v).lower() for v in value} <= {str(c).lower() for c in choices}, (module, key, value)
