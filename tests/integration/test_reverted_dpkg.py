"""Debian version order (ccops.report.reverted.compare, pure Python) against dpkg itself on this machine."""

from __future__ import annotations

import itertools
import shutil
import subprocess

import pytest

from ccops.report.reverted import BadVersion, compare
from tests.unit.test_reverted import VERSIONS


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not on this machine")
def test_version_order_matches_dpkg() -> None:
    for a, b in itertools.combinations(VERSIONS, 2):
        answers = {
            value: subprocess.run(["dpkg", "--compare-versions", a, op, b], capture_output=True, check=False).returncode
            for op, value in (("lt", -1), ("gt", 1))
        }
        if 2 in answers.values():  # dpkg refuses the syntax
            with pytest.raises(BadVersion):
                compare(a, b)
            continue
        want = next((value for value, code in answers.items() if code == 0), 0)
        assert compare(a, b) == want, (a, b)
