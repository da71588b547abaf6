"""Unknown devices: a host's neighbour table read strictly at the edge (ccops.hostdata.neighbours), kept
as a capped list of addresses in the version's summary, and the addresses on a site's subnets that
nothing in the inventory is become ``unknown_device`` risks (ccops.report.unknown)."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime

import pytest

from ccops.hostdata import read_report
from ccops.hostdata.kinds import parse
from ccops.hostdata.neighbours import MAX_STORED, NEIGHBOURS, seen
from ccops.inventory.load import load_inventory
from ccops.report.risks import FleetState, risk_list
from ccops.report.unknown import unknown_risks
from ccops.store.asset_history import summary
from tests.conftest import ROOT, write_inventory

SPEC = importlib.util.spec_from_file_location("asset_module", ROOT / "roles/asset/library/ccops_asset_debian.py")
assert SPEC is not None and SPEC.loader is not None
asset_module = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(asset_module)

SITE = """\
site:
  code: un
  city: testcity
  timezone: UTC
  maintenance_windows: [{start: "00:00", end: "00:00"}]
  rollout: {canary: 1, waves: ["100%"], batch_size: 5, max_fail_percentage: 100}
  management: [10.9.200.5/32]
  distribution_point: {host: un-dp01, path: /srv/dp}
  backup_target: {host: 10.30.0.250, path: /srv/backups}
  subnets: [10.30.0.0/24]
  gateways: [10.30.0.1]
connections:
  linux: {type: ssh, user: ccops, become: true}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: un-a0[1:2]
    addresses: 10.30.0.11
  - name: points
    role: distribution_point
    os: debian12
    business_line: shared
    connection: linux
    hosts: un-dp01
    addresses: 10.30.0.20
"""
OTHER = SITE.replace("code: un", "code: ot").replace("un-", "ot-").replace("10.30.0.", "10.40.0.")
OTHER = OTHER.replace("  subnets: [10.40.0.0/24]\n", "")  # a site that declares no subnets


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    return load_inventory(write_inventory(tmp_path / "inv", {"un.yml": SITE, "ot.yml": OTHER}))


def test_a_neighbour_table_is_read_strictly_and_what_does_not_fit_is_noted_not_kept():
    table = [
        {"address": "10.30.0.99", "mac": "52:54:00:12:34:56", "state": "REACHABLE"},
        {"address": "fe80::1%12", "mac": "00-15-5D-01-02-04", "state": "Stale"},  # Get-NetNeighbor's form
        {"address": "10.30.0.5%eth0", "state": "REACHABLE"},  # a zone where none belongs
        {"address": "10.30.0.0/24", "state": "REACHABLE"},
        {"address": "printer.local", "state": "REACHABLE"},
        {"address": "010.030.000.007", "state": "REACHABLE"},  # leading zeros: read as octal by some tools
        {"address": ["10.30.0.8"]},
        "gateway",  # plain text reads as an address (as stored), and this is none
    ]
    parsed, notes = parse(NEIGHBOURS, table)
    assert parsed == ["10.30.0.99"]  # fe80::1 read (its zone dropped), then left out: link-local is no device
    assert {n.split("]")[0] + "]" for n in notes} == {f"[{i}]" for i in range(2, 8)}, notes  # each named


def test_the_summary_keeps_only_answering_addresses_sorted_distinct_and_capped():
    table = [
        {"address": "10.30.0.12", "state": "STALE"},
        {"address": "10.30.0.12", "state": "REACHABLE"},
        {"address": "10.30.0.3", "state": "REACHABLE"},
        {"address": "10.30.0.4", "state": "FAILED"},
        {"address": "10.30.0.6", "state": "Incomplete"},
        {"address": "127.0.0.1", "state": "PERMANENT"},
        {"address": "224.0.0.22", "state": "Permanent"},
        {"address": "fe80::1", "state": "STALE"},
        {"address": "2001:db8::7", "state": "REACHABLE"},
    ]
    record = read_report({"outcome": "inspected", "neighbours": table})
    assert record["neighbours"] == ["10.30.0.3", "10.30.0.12", "2001:db8::7"]  # the record keeps no raw table
    assert parse(NEIGHBOURS, record["neighbours"]) == (record["neighbours"], [])  # reads back as stored
    many = [{"address": f"10.{i // 256}.{i % 256}.1", "state": "REACHABLE"} for i in range(MAX_STORED + 50)]
    assert len(parse(NEIGHBOURS, many)[0]) == MAX_STORED
    kept = summary(record, "2026-12-07T10:00:00+00:00")
    assert kept["neighbours"] == ["10.30.0.3", "10.30.0.12", "2001:db8::7"] == seen(record)


def test_the_debian_module_reads_proc_net_arp_when_ip_cannot_answer():
    text = (
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "10.30.0.99       0x1         0x2         52:54:00:12:34:56     *        eth0\n"
        "10.30.0.98       0x1         0x0         00:00:00:00:00:00     *        eth0\n"
        "garbage\n"
    )
    rows = asset_module.arp_table(text)
    assert rows == [
        {"address": "10.30.0.99", "mac": "52:54:00:12:34:56", "state": "reachable"},
        {"address": "10.30.0.98", "mac": "00:00:00:00:00:00", "state": "incomplete"},
    ]
    assert parse(NEIGHBOURS, rows) == (["10.30.0.99"], [])


def _latest(**neighbours: list[str]) -> dict[str, dict]:
    return {host.replace("_", "-"): {"neighbours": seen_} for host, seen_ in neighbours.items()}


def test_addresses_on_the_site_subnets_that_no_host_is_are_unknown_devices(inventory):
    latest = _latest(
        un_a01=[
            "10.30.0.1",  # the declared gateway
            "10.30.0.12",  # un-a02
            "10.30.0.20",  # the distribution point
            "10.30.0.250",  # the backup target
            "10.30.0.77",  # nobody declared it
            "10.30.0.255",  # the subnet's broadcast address
            "10.31.0.5",  # not on the site's subnets
            "10.40.0.11",  # another site's host
        ],
        un_a02=["10.30.0.77", "10.30.0.78"],
        ot_a01=["10.40.0.99"],  # its site declares no subnets: never judged
    )
    risks = unknown_risks(inventory, latest)
    assert [(r["site"], r["kind"], r["address"], r["seen_by"]) for r in risks] == [
        ("un", "unknown_device", "10.30.0.77", ["un-a01", "un-a02"]),
        ("un", "unknown_device", "10.30.0.78", ["un-a02"]),
    ]
    assert risks[0]["detail"] == "10.30.0.77 on 10.30.0.0/24 is no host of the inventory; seen by un-a01, un-a02"
    state = FleetState(now=datetime.now(UTC), latest=latest, recent={}, compliance={})
    listed = [r for r in risk_list(inventory, state, {"un"}) if r["kind"] == "unknown_device"]
    assert [r["address"] for r in listed] == ["10.30.0.77", "10.30.0.78"]
    assert unknown_risks(inventory, latest, {"ot"}) == []


def test_a_site_file_with_a_subnet_that_is_not_a_network_is_one_clear_line(tmp_path, monkeypatch):
    from ccops.errors import InventoryError

    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    bad = SITE.replace("subnets: [10.30.0.0/24]", "subnets: [10.30.0.0/33]")
    with pytest.raises(InventoryError) as caught:
        load_inventory(write_inventory(tmp_path / "inv", {"un.yml": bad}))
    assert "subnets" in str(caught.value) and "un.yml:" in str(caught.value)
