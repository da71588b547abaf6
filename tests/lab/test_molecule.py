"""The roles' molecule scenarios on the lab image: each creates its own container
(ccops-molecule-<scenario>, no network), converges, checks idempotence where a
run should change nothing, and verifies what an operator relies on.

They need the lab's Debian 12 image only, never the lab's hosts or network, so the
whole suite runs them in its stream beside the container lab (scripts/test); the
image is built once per machine whichever stream asks first (ccops.lab.images).
"""

import os
import subprocess

import pytest

from tests.conftest import BIN, ROOT

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    from ccops.lab.images import ensure_images, image_name

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCOPS_HOME", str(tmp_path_factory.mktemp("molecule-home")))  # a build's work folder is ours
        ensure_images(["debian12"])
    return image_name("debian12")


SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))


def test_every_role_the_refactor_touches_has_a_scenario():
    assert {"asset", "precheck", "backup", "software", "patch", "comply"} <= set(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(lab_image, scenario):
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
