"""The asset role's molecule scenario on the lab image: create, converge, idempotence, verify."""

import os
import subprocess

import pytest

from tests.conftest import BIN, ROOT

pytestmark = pytest.mark.lab


def test_molecule_asset_scenario(lab_home):
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "CONTAINERS_CONF": str(ROOT / "images" / "lab" / "containers.conf"),
        "ANSIBLE_FORCE_COLOR": "0",
    }
    result = subprocess.run(
        [str(BIN / "molecule"), "test", "-s", "asset"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=1800
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert "idempotence" in result.stdout + result.stderr
