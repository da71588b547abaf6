"""Contract test: ccops inspect on a modelled Windows seat."""

from __future__ import annotations

import pytest

from tests.windows.harness import run_contract, seat_state


@pytest.fixture(scope="module")
def inspected(tmp_path_factory):
    return run_contract(
        tmp_path_factory.mktemp("windows-inspect"), "inspect.yml", "inspect", {"seat": (seat_state(), {})}
    )["seat"]


def test_inspect_reports_the_seat_without_changing_it(inspected):
    assert inspected.outcome() == "ok", inspected.failure()
    report = inspected.report()
    assert report["os"]["family"] == "windows" and report["os"]["version"] == "10.0.22631.0"
    assert report["updates"]["pending"] == 1 and report["updates"]["security"] == 1
    assert report["packages"]["items"] == {"Contoso Softphone": "4.2"}
    assert {s["name"] for s in report["services"]} == {"WinRM"}
    assert inspected.ops() == ["setup", "software", "win_updates.search", "volumes", "win_service_info", "events"]
