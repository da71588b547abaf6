"""The host-data schemas fit what the Windows tasks really hand back (modelled seats, real playbooks):
no field of a healthy or failing seat's report is flagged as damaged."""

from __future__ import annotations

import pytest

from ccops.hostdata import parse_report
from tests.windows.harness import run_contract, seat_state


@pytest.fixture(scope="module")
def inspected(tmp_path_factory):
    return run_contract(
        tmp_path_factory.mktemp("windows-hostdata"), "inspect.yml", "inspect", {"seat": (seat_state(), {})}
    )["seat"]


def test_a_windows_asset_report_fits_its_schema(inspected):
    report = inspected.report()
    clean, damaged = parse_report(report, "inspect")
    assert damaged == []
    assert clean["disks"] and clean["packages"]["items"] and clean["services"]


def test_every_windows_patch_report_fits_its_schema(patch_runs):
    checked = 0
    for name, run in patch_runs.items():
        report = run.report()
        if report is None:
            continue
        assert parse_report(report, "patch")[1] == [], name
        checked += 1
    assert checked
