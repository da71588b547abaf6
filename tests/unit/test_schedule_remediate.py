"""run: remediate in schedules.yml: unattended only where the site allows it, else a recorded refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccops.errors import EXIT_OK, EXIT_REFUSED
from ccops.inventory.load import load_inventory
from ccops.run import open_store
from ccops.schedule.fire import fire
from ccops.schedule.model import load_schedules
from tests.conftest import write_inventory
from tests.unit.test_schedule import OPEN, SITE, _problems

REMEDIATE = """\
schedules:
  - name: tst-fix
    site: tst
    run: remediate
    window: open
    change_id: STD-FIX
"""
ALLOWED = "  remediate: {unattended: true, auto_approve: {high: 2}}\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _inventory(tmp_path: Path, site_rule: str = "", schedules: str = REMEDIATE) -> Path:
    site = SITE.replace("WINDOWS", OPEN).replace("connections:", site_rule + "connections:", 1)
    folder = write_inventory(tmp_path / "inv", {"tst.yml": site})
    (folder / "schedules.yml").write_text(schedules)
    return folder


def test_a_site_that_does_not_allow_it_gets_a_recorded_refusal_and_nothing_runs(home, tmp_path):
    firing = fire(_inventory(tmp_path), "tst-fix")
    assert (firing.status, firing.exit_code) == ("refused", EXIT_REFUSED)
    assert "does not allow unattended remediation" in firing.message
    [record] = open_store().runs()
    assert (record.status, record.verb) == ("refused", "patch")


def test_an_allowed_site_with_nothing_to_fix_runs_and_records_nothing(home, tmp_path):
    firing = fire(_inventory(tmp_path, ALLOWED), "tst-fix")
    assert (firing.status, firing.exit_code, firing.run_id) == ("nothing", EXIT_OK, "")
    assert open_store().runs() == []


def test_the_urgency_defaults_to_high_and_the_site_rule_is_read(tmp_path):
    inventory = load_inventory(_inventory(tmp_path, ALLOWED))
    assert load_schedules(inventory)["tst-fix"].options == {"urgency": "high"}
    assert inventory.sites["tst"].remediate == {"unattended": True, "auto_approve": {"high": 2}}


def test_a_wrong_urgency_or_rule_is_refused_naming_the_file(tmp_path):
    bad = REMEDIATE.replace("    window: open\n", "    window: open\n    options: {urgency: urgent}\n")
    assert "urgent" in _problems(tmp_path, bad)
    with pytest.raises(Exception, match=r"tst\.yml.*auto_approve"):
        load_inventory(_inventory(tmp_path / "rule", "  remediate: {auto_approve: {high: 400}}\n"))
