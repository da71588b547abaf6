"""The roles' molecule scenarios on the lab image: each creates its own container
(ccops-molecule-<scenario>, no network), converges, checks idempotence where a
run should change nothing, and verifies what an operator relies on."""

import os
import subprocess

import pytest

from tests.conftest import BIN, ROOT

pytestmark = pytest.mark.lab

SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))


def test_every_role_the_refactor_touches_has_a_scenario():
    assert {"asset", "precheck", "backup", "software", "patch"} <= set(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(lab_home, scenario):
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "CONTAINERS_CONF": str(ROOT / "images" / "lab" / "containers.conf"),
        "ANSIBLE_FORCE_COLOR": "0",
    }
    result = subprocess.run(
        [str(BIN / "molecule"), "test", "-s", scenario],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    assert f"{scenario} > verify: Executed: Successful" in output
