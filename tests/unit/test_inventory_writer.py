"""The inventory writer changes exactly the state lines of one host, comments and layout kept."""

import difflib
from pathlib import Path

import pytest

from ccops.errors import CcopsError, InventoryError
from ccops.inventory.load import check_inventory, load_inventory
from ccops.inventory.writer import WriteRefused, set_host_fields
from tests.conftest import site_text, write_inventory

RETIRE = {"lifecycle": "retired", "retired_on": "2026-11-23"}


def _site(tmp_path: Path, overrides: str = "") -> Path:
    text = "# the test centre: comments stay\n" + site_text() + overrides
    return write_inventory(tmp_path / "inv", {"tst.yml": text}) / "sites" / "tst.yml"


def _diff(before: str, after: str) -> list[str]:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in lines if line[:1] in "+-" and not line.startswith(("---", "+++"))]


def _set(path: Path, host: str, fields: dict) -> tuple[str, str]:
    before = path.read_text()
    set_host_fields(load_inventory(path.parents[1]), host, fields)
    return before, path.read_text()


def test_an_existing_entry_changes_only_its_state_lines(tmp_path):
    path = _site(
        tmp_path,
        "hosts:                # per-host overrides\n"
        "  tst-t02:\n"
        "    lifecycle: retiring   # asked for in CHG-9\n"
        "    asset_tag: 'TST-02R'\n"
        "  tst-t03: {asset_tag: TST-03}\n",
    )
    before, after = _set(path, "tst-t02", RETIRE)
    assert _diff(before, after) == [
        "-    lifecycle: retiring   # asked for in CHG-9",
        "+    lifecycle: retired   # asked for in CHG-9",
        '+    retired_on: "2026-11-23"',
    ]
    host = load_inventory(path.parents[1]).hosts["tst-t02"]
    assert (host.lifecycle, host.asset_tag) == ("retired", "TST-02R")


def test_a_host_only_in_a_range_gets_its_own_entry(tmp_path):
    path = _site(tmp_path, "hosts:\n  tst-t01:\n    asset_tag: TST-01\n")
    before, after = _set(path, "tst-t04", RETIRE)
    assert _diff(before, after) == ["+  tst-t04:", "+    lifecycle: retired", '+    retired_on: "2026-11-23"']
    assert load_inventory(path.parents[1]).hosts["tst-t04"].lifecycle == "retired"
    assert load_inventory(path.parents[1]).hosts["tst-t03"].lifecycle == "active"


def test_a_site_without_hosts_section_gains_one(tmp_path):
    path = _site(tmp_path)
    before, after = _set(path, "tst-t01", {"lifecycle": "retiring"})
    assert _diff(before, after) == ["+hosts:", "+  tst-t01:", "+    lifecycle: retiring"]


def test_flow_entries_and_quote_styles_are_kept(tmp_path):
    path = _site(tmp_path, 'hosts:\n  tst-t01: {lifecycle: "retiring", asset_tag: TST-01}\n  tst-t02: {}\n')
    before, after = _set(path, "tst-t01", RETIRE)
    assert _diff(before, after) == [
        '-  tst-t01: {lifecycle: "retiring", asset_tag: TST-01}',
        '+  tst-t01: {lifecycle: "retired", asset_tag: TST-01, retired_on: "2026-11-23"}',
    ]
    before, after = _set(path, "tst-t02", {"lifecycle": "retiring"})
    assert _diff(before, after) == ["-  tst-t02: {}", "+  tst-t02: {lifecycle: retiring}"]


def test_planned_to_active_for_image_deployment(tmp_path):
    path = _site(tmp_path, "hosts:\n  tst-t01:\n    lifecycle: planned\n")
    before, after = _set(path, "tst-t01", {"lifecycle": "active", "address": "10.9.0.50"})
    assert _diff(before, after) == ["-    lifecycle: planned", "+    lifecycle: active", '+    address: "10.9.0.50"']


def test_an_edit_that_breaks_the_inventory_is_refused_and_nothing_written(tmp_path):
    path = _site(tmp_path, "hosts:\n  tst-t01:\n    lifecycle: retiring\n")
    before = path.read_text()
    with pytest.raises(InventoryError) as caught:
        set_host_fields(load_inventory(path.parents[1]), "tst-t01", {"lifecycle": "gone"})
    assert "tst.yml:" in str(caught.value) and "gone" in str(caught.value)
    with pytest.raises(InventoryError, match="retired_on"):
        set_host_fields(load_inventory(path.parents[1]), "tst-t01", {"retired_on": "tomorrow"})
    assert path.read_text() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["tst.yml"]  # no temporary file left


def test_layouts_the_writer_cannot_edit_are_refused_with_file_and_line(tmp_path):
    path = _site(tmp_path, "hosts:\n  tst-t01:\n    lifecycle: [retiring]\n")
    with pytest.raises(WriteRefused, match=r"tst\.yml:\d+: hosts\.tst-t01\.lifecycle is not a single value"):
        set_host_fields(check_inventory(path.parents[1])[0], "tst-t01", {"lifecycle": "retired"})
    with pytest.raises(CcopsError, match="cannot set vars"):
        set_host_fields(check_inventory(path.parents[1])[0], "tst-t01", {"vars": "x"})


def test_a_date_must_be_a_quoted_iso_date(tmp_path):
    inv = write_inventory(tmp_path / "inv", {"tst.yml": site_text() + "hosts:\n  tst-t01: {retired_on: 23.11.2026}\n"})
    _, problems = check_inventory(inv)
    assert [p.message for p in problems] == ["hosts.tst-t01.retired_on: '23.11.2026' is not a date \"YYYY-MM-DD\""]
