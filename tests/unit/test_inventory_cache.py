"""A fleet-size inventory is validated once while its files stay the same, and never trusted after a change."""

from __future__ import annotations

import pytest

from ccops.errors import InventoryError
from ccops.inventory import cache, load
from tests.conftest import site_text, write_inventory


@pytest.fixture
def fleet(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return write_inventory(tmp_path / "inv", {"tst.yml": site_text(count=99).replace("[01:99]", "[0001:2500]")})


@pytest.fixture
def validations(monkeypatch):
    """How often the files were validated (every cache miss validates them)."""
    calls: list[object] = []
    real = load.check_inventory

    def counted(path, *args):
        calls.append(path)
        return real(path, *args)

    monkeypatch.setattr(load, "check_inventory", counted)
    return calls


def _entries(tmp_path):
    return list((tmp_path / "home" / "cache" / "inventory").glob("*.pickle"))


def test_unchanged_files_are_validated_once(fleet, validations, tmp_path):
    first = load.load_inventory(fleet)
    again = load.load_inventory(fleet)
    assert len(validations) == 1 and len(again.hosts) == 2500
    assert again.hosts == first.hosts and again.sites == first.sites and again.digest() == first.digest()
    [entry] = _entries(tmp_path)
    assert oct(entry.stat().st_mode & 0o777) == "0o600"


def test_an_edited_site_file_is_validated_again_and_its_problems_name_file_and_line(fleet, validations):
    load.load_inventory(fleet)
    site = fleet / "sites" / "tst.yml"
    site.write_text(site.read_text().replace("business_line: voice", "business_line: credit_card"))
    assert {h.business_line for h in load.load_inventory(fleet).hosts.values()} == {"credit_card"}
    site.write_text(site.read_text().replace("os: debian12", "os: debian99"))
    with pytest.raises(InventoryError, match=r"sites/tst\.yml:\d+: "):
        load.load_inventory(fleet)
    assert len(validations) == 3


def test_an_added_site_file_is_seen(fleet, validations):
    load.load_inventory(fleet)
    (fleet / "sites" / "two.yml").write_text(site_text(code="two", address="10.8.0.1"))
    assert "two" in load.load_inventory(fleet).sites and len(validations) == 2


def test_an_entry_others_could_have_written_is_never_read(fleet, validations, tmp_path):
    load.load_inventory(fleet)
    [entry] = _entries(tmp_path)
    entry.chmod(0o644)
    load.load_inventory(fleet)
    entry.write_bytes(b"not a pickle")
    entry.chmod(0o600)
    load.load_inventory(fleet)
    assert len(validations) == 3


def test_a_small_inventory_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    load.load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": site_text()}))
    assert not _entries(tmp_path) and cache.WORTH_IT > 4


def test_validate_answers_from_the_kept_inventory_only_while_the_files_are_unchanged(fleet, validations):
    from click.testing import CliRunner

    from ccops.cli.main import cli

    runner = CliRunner()
    for _ in range(2):  # the first validates the files and keeps the inventory; the second reads it
        result = runner.invoke(cli, ["inventory", "validate", "-i", str(fleet)])
        assert result.exit_code == 0 and "1 site(s), 2500 host(s), no problems" in result.output
    assert len(validations) == 1
    load.load_inventory(fleet)
    assert len(validations) == 1
    site = fleet / "sites" / "tst.yml"
    site.write_text(site.read_text().replace("os: debian12", "os: debian99"))
    result = runner.invoke(cli, ["inventory", "validate", "-i", str(fleet)])
    assert result.exit_code != 0 and len(validations) == 2
