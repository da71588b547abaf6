"""Shared contract runs: each ansible-playbook run serves every test that reads it."""

from __future__ import annotations

import pytest

from tests.windows.harness import run_contract
from tests.windows.seats import PATCH_SEATS


@pytest.fixture(scope="session")
def patch_work(tmp_path_factory):
    return tmp_path_factory.mktemp("windows-patch")


@pytest.fixture(scope="session")
def patch_runs(patch_work):
    return run_contract(patch_work, "patch.yml", "patch", PATCH_SEATS)
