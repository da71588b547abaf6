"""`--plan FILE` on comply and decommission: the reviewed plan runs, or is refused naming what changed.

The same contract as patch and software (tests/cli/test_saved_plan.py), through commands with
modes and guards of their own: comply's --check/--fix pick the plan's verb, decommission's guards
and typed names still apply to the hosts the plan names.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_decommission_guards import SITE as RETIRING_SITE
from tests.cli.test_saved_plan import EXIT_REFUSED, _site
from tests.conftest import run_scripted, write_inventory
from tests.json_output import payload


@pytest.fixture
def fleet(tmp_path: Path):
    home, hosts_file = tmp_path / "home", tmp_path / "hosts.json"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_scripted("tests.cli.scripted_cli", home, hosts_file, {}, *args)

    run.plan = tmp_path / "approved.json"  # type: ignore[attr-defined]
    return run


def _edit(site: Path) -> None:
    site.write_text(site.read_text() + "# edited after the review\n")


def test_comply_fix_runs_the_saved_plan_and_refuses_it_once_a_site_file_changed(fleet, tmp_path):
    inv = write_inventory(
        tmp_path / "inv", {"tst.yml": _site("tst", 3, "10.9.0.1"), "two.yml": _site("two", 2, "10.9.1.1")}
    )
    saved = fleet("plan", "comply", "-i", str(inv), "--site", "two", "--save", str(fleet.plan), "-o", "json")
    assert saved.returncode == 0, saved.stderr
    assert json.loads(fleet.plan.read_text())["verb"] == "comply"
    apply = ("comply", "--fix", "--plan", str(fleet.plan), "--change-id", "CHG-9", "--yes", "-o", "json")
    ran = fleet(*apply)
    assert sorted(h["host"] for h in payload(ran.stdout)["hosts"]) == ["two-t01", "two-t02"], ran.stderr
    _edit(inv / "sites" / "tst.yml")
    refused = fleet(*apply)
    assert refused.returncode == EXIT_REFUSED and "inventory file sites/tst.yml changed" in refused.stderr


def test_a_fix_plan_is_not_a_check_and_the_selection_is_the_plans(fleet, tmp_path):
    inv = write_inventory(tmp_path / "inv", {"tst.yml": _site("tst", 3, "10.9.0.1")})
    assert fleet("plan", "comply", "-i", str(inv), "--save", str(fleet.plan)).returncode == 0
    check = fleet("comply", "--check", "--plan", str(fleet.plan), "-o", "json")
    assert check.returncode == EXIT_REFUSED and "the plan is for comply, not comply-check" in check.stderr
    narrowed = fleet("comply", "--fix", "--plan", str(fleet.plan), "--change-id", "C", "--yes", "--site", "tst")
    assert narrowed.returncode != 0 and "--site cannot be given with --plan" in narrowed.stderr


def test_decommission_runs_a_saved_plan_behind_its_guards_and_refuses_a_changed_one(fleet, tmp_path):
    inv = tmp_path / "inv"
    write_inventory(inv, {"tst.yml": RETIRING_SITE})
    selected = ("--limit", "tst-r01", "--limit", "tst-r02")
    saved = fleet("plan", "decommission", "-i", str(inv), *selected, "--save", str(fleet.plan), "-o", "json")
    assert saved.returncode == 0, saved.stderr
    run = ("decommission", "--plan", str(fleet.plan), "--change-id", "CHG-D", "-o", "json")
    wrong_names = fleet(*run, "--confirm", "tst-r01")
    assert wrong_names.returncode == EXIT_REFUSED, wrong_names.stderr  # typed names are still the guard
    _edit(inv / "sites" / "tst.yml")
    changed = fleet(*run, "--confirm", "tst-r01 tst-r02")
    assert changed.returncode == EXIT_REFUSED and "inventory file sites/tst.yml changed" in changed.stderr


def test_plan_takes_comply_check_or_fix_and_the_saved_plan_holds_the_run_to_it(fleet, tmp_path):
    inv = write_inventory(tmp_path / "inv", {"tst.yml": _site("tst", 2, "10.9.0.1")})
    assert fleet("plan", "comply", "--check", "-i", str(inv), "--save", str(fleet.plan)).returncode == 0
    assert json.loads(fleet.plan.read_text())["verb"] == "comply-check"
    checked = fleet("comply", "--check", "--plan", str(fleet.plan), "-o", "json")
    assert sorted(h["host"] for h in payload(checked.stdout)["hosts"]) == ["tst-t01", "tst-t02"], checked.stderr
    fixed = fleet("comply", "--fix", "--plan", str(fleet.plan), "--change-id", "C", "--yes")
    assert fixed.returncode == EXIT_REFUSED and "the plan is for comply-check, not comply" in fixed.stderr
    not_a_mode = fleet("plan", "patch", "--fix", "-i", str(inv))
    assert not_a_mode.returncode == 64 and "plan patch takes no --fix" in not_a_mode.stderr
