"""Build step: ship ccops's Ansible tree inside the package, as ``ccops/_tree``.

The top-level ansible.cfg, playbooks/, roles/, images/ (the lab recipe, golden images) and
inventory/ (the empty default and the example) stay the only source in git;
a wheel gets a copy of them, so an installed ccops runs without a checkout
(ccops.paths.project_root() finds the copy). Everything else about the
package is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
TREE = ("ansible.cfg", "playbooks", "roles", "images/lab.yml", "images/lab", "images/golden", "inventory/none.yml",
        "inventory/example")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.retry", ".*")
# in the checkout the plugin is found under src/; in the package it sits beside _tree
PLUGINS_IN_CHECKOUT = "inventory_plugins = src/ccops/ansible_plugins/inventory"
PLUGINS_IN_PACKAGE = "inventory_plugins = ../ansible_plugins/inventory"


def copy_tree(target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    for name in TREE:
        source, dest = ROOT / name, target / name
        if not source.exists():
            raise SystemExit(f"setup.py: {source} is missing; build from a full checkout or sdist")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, dest, ignore=SKIP)
        else:
            shutil.copy2(source, dest)
    config = target / "ansible.cfg"
    text = config.read_text()
    if text.count(PLUGINS_IN_CHECKOUT) != 1:
        raise SystemExit(f"setup.py: ansible.cfg must hold the line '{PLUGINS_IN_CHECKOUT}' once")
    config.write_text(text.replace(PLUGINS_IN_CHECKOUT, PLUGINS_IN_PACKAGE))


class BuildWithAnsibleTree(build_py):
    def run(self) -> None:
        super().run()
        # an editable install runs from the checkout itself: no copy
        if not getattr(self, "editable_mode", False):
            copy_tree(Path(self.build_lib) / "ccops" / "_tree")


setup(cmdclass={"build_py": BuildWithAnsibleTree})
