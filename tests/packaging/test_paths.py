"""In a checkout ccops uses the checkout's files and keeps the lab inventory in inventory/lab.

The installed case (the tree shipped in the wheel, the lab inventory in the
state folder) is proven by test_wheel.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

PROBE = (
    "import json, ccops.paths as p; print(json.dumps({'root': str(p.project_root()), "
    "'installed': p.runs_installed(), 'inventory': str(p.default_inventory())}))"
)


def _probe(tmp_path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("CCOPS_PROJECT", "CCOPS_INVENTORY")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={**clean, "PYTHONPATH": str(ROOT / "src"), "CCOPS_HOME": str(tmp_path / "home"), **env},
    )
    return json.loads(result.stdout)


def test_a_checkout_runs_its_own_files_from_any_folder(tmp_path):
    found = _probe(tmp_path)
    assert found == {"root": str(ROOT), "installed": False, "inventory": str(ROOT / "inventory" / "lab")}
    # nothing is written by asking
    assert not (tmp_path / "home").exists()


def test_ccops_project_and_ccops_inventory_still_win(tmp_path):
    other = tmp_path / "other-checkout"
    other.mkdir()
    found = _probe(tmp_path, CCOPS_PROJECT=str(other), CCOPS_INVENTORY=str(tmp_path / "inv"))
    assert found == {"root": str(other), "installed": False, "inventory": str(tmp_path / "inv")}
