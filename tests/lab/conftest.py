"""One lab fleet for all lab tests: three hosts, one per Debian variant.

The lab is this machine's lab: these tests reshape it, and remove it at the end.
"""

import shutil

import pytest

from tests.conftest import run_ccops


@pytest.fixture(scope="session")
def lab_home(tmp_path_factory):
    if shutil.which("podman") is None or shutil.which("mmdebstrap") is None:
        pytest.fail("lab tests need podman and mmdebstrap: run scripts/setup")
    home = tmp_path_factory.mktemp("ccops-lab-home")
    run_ccops(home, "lab", "up", "--hosts", "3", check=True, timeout=3600)
    yield home
    run_ccops(home, "lab", "down", timeout=600)
