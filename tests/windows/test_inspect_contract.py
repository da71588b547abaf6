"""Contract test: ccops inspect on a modelled Windows seat."""

from __future__ import annotations

import pytest

from tests.windows.harness import run_contract, seat_state

# what Get-NetNeighbor lists on a seat: a reachable printer, a stale IPv6 peer, an entry that never answered
NEIGHBOURS = [
    {"address": "10.20.0.77", "mac": "00-15-5D-01-02-03", "state": "Reachable"},
    {"address": "fe80::1%12", "mac": "00-15-5D-01-02-04", "state": "Stale"},
    {"address": "10.20.0.78", "mac": "00-00-00-00-00-00", "state": "Incomplete"},
]


@pytest.fixture(scope="module")
def inspected(tmp_path_factory):
    return run_contract(
        tmp_path_factory.mktemp("windows-inspect"),
        "inspect.yml",
        "inspect",
        {"seat": (seat_state(neighbours=NEIGHBOURS), {})},
    )["seat"]


def test_inspect_reports_the_seat_without_changing_it(inspected):
    assert inspected.outcome() == "ok", inspected.failure()
    report = inspected.report()
    assert report["os"]["family"] == "windows" and report["os"]["version"] == "10.0.22631.0"
    assert report["updates"]["pending"] == 1 and report["updates"]["security"] == 1
    assert report["packages"]["items"] == {"Contoso Softphone": "4.2"}
    assert {s["name"] for s in report["services"]} == {"WinRM"}
    assert inspected.ops() == [
        "setup", "software", "win_updates.search", "volumes", "win_service_info", "events", "neighbours",
    ]  # fmt: skip
    assert report["neighbours"] == NEIGHBOURS  # gathered as listed: ccops reads and judges them (hostdata)
