"""The plan a reviewer approves is the plan that runs: `plan VERB --save FILE`, then `VERB --plan FILE`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_scripted, site_text, write_inventory
from tests.json_output import payload
from tests.unit.test_catalogue import GOOD

EXIT_REFUSED = 5


ALL_DAY = '  timezone: Asia/Shanghai\n  maintenance_windows: [{start: "00:00", end: "00:00"}]\n'


def _site(code: str, count: int, address: str) -> str:
    """A test site whose maintenance window is open all day, so a patch run is never refused by the clock."""
    return site_text(code, count, address).replace("  timezone: Asia/Shanghai\n", ALL_DAY)


@pytest.fixture
def fleet(tmp_path: Path):
    inv = write_inventory(
        tmp_path / "inv", {"tst.yml": _site("tst", 4, "10.9.0.1"), "two.yml": _site("two", 2, "10.9.1.1")}
    )
    home = tmp_path / "home"
    hosts_file = tmp_path / "hosts.json"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_scripted("tests.cli.scripted_cli", home, hosts_file, {}, *args)

    run.inv, run.plan = inv, tmp_path / "approved.json"  # type: ignore[attr-defined]
    return run


def _save(fleet, *selectors: str) -> dict:
    result = fleet("plan", "patch", "-i", str(fleet.inv), *selectors, "--save", str(fleet.plan), "-o", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(fleet.plan.read_text())


def _apply(fleet, *extra: str) -> subprocess.CompletedProcess[str]:
    return fleet("patch", "--plan", str(fleet.plan), "--change-id", "CHG-7", "--yes", "-o", "json", *extra)


def test_a_saved_plan_runs_exactly_its_hosts(fleet):
    saved = _save(fleet, "--site", "tst")
    assert (saved["schema"], saved["version"], saved["verb"]) == ("ccops-plan", 2, "patch")
    assert set(saved["inventory_files"]) == {"ccops.yml", "sites/tst.yml", "sites/two.yml"}
    assert saved["content_sha256"] and saved["ccops_version"]
    result = _apply(fleet)
    assert result.returncode == 0, result.stdout + result.stderr
    ran = payload(result.stdout)
    assert sorted(h["host"] for h in ran["hosts"]) == ["tst-t01", "tst-t02", "tst-t03", "tst-t04"]
    planned = [(w["name"], sum(len(b["hosts"]) for b in w["batches"])) for w in saved["waves"]]
    assert [(w["wave"], w["hosts"]) for w in ran["waves"]] == planned


def test_an_edited_site_file_after_saving_is_refused_naming_it(fleet):
    _save(fleet)
    site = fleet.inv / "sites" / "two.yml"
    site.write_text(site.read_text().replace("batch_size: 2", "batch_size: 1"))
    result = _apply(fleet)
    assert result.returncode == EXIT_REFUSED, result.stdout + result.stderr
    assert "inventory file sites/two.yml changed" in result.stderr
    assert str(fleet.plan) in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_new_site_file_is_refused(fleet):
    _save(fleet, "--site", "tst")
    (fleet.inv / "sites" / "new.yml").write_text(site_text("new", 1, "10.9.2.1"))
    result = _apply(fleet)
    assert result.returncode == EXIT_REFUSED and "inventory file sites/new.yml added" in result.stderr


def test_changing_the_selection_at_run_time_is_refused(fleet):
    _save(fleet, "--site", "tst")
    result = _apply(fleet, "--site", "two")
    assert result.returncode == 64 and "--site cannot be given with --plan" in result.stderr
    result = _apply(fleet, "--reboot", "always")
    assert result.returncode == 64 and "--reboot cannot be given with --plan" in result.stderr


def test_a_plan_for_another_verb_is_refused(fleet):
    _save(fleet)
    result = fleet("inspect", "--plan", str(fleet.plan), "-o", "json")
    assert result.returncode == EXIT_REFUSED and "the plan is for patch, not inspect" in result.stderr


def test_the_catalogue_is_part_of_a_software_plan(fleet):
    (fleet.inv / "catalogue").mkdir()
    (fleet.inv / "catalogue" / "apps.yml").write_text(GOOD)
    saved = fleet.plan
    result = fleet("plan", "software", "apply", "-i", str(fleet.inv), "--save", str(saved))
    assert result.returncode == 0, result.stderr
    assert list(json.loads(saved.read_text())["pins"]) == ["catalogue file catalogue/apps.yml"]
    (fleet.inv / "catalogue" / "apps.yml").write_text(GOOD + "\n# reviewed again\n")
    ran = fleet("software", "apply", "--plan", str(saved), "--change-id", "CHG-7", "--yes")
    assert ran.returncode == EXIT_REFUSED, ran.stdout + ran.stderr
    assert "catalogue file catalogue/apps.yml changed" in ran.stderr


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        "[]",
        '{"schema": "ccops-plan", "version": 99}',
        '{"schema": "ccops-plan", "version": 2, "verb": "patch", "selectors": {"evil": []}}',
        "[" * 100000,
        '{"schema": "ccops-plan", "version": 2, "verb": "patch", "inventory": "/x", "selectors": {},'
        ' "batch_size": null, "emergency": false, "options": {"ansible_shell_executable": "/bin/evil"},'
        ' "inventory_files": {}, "pins": {}, "content_sha256": null, "waves": []}',
        "\x1b[31m\n\x00",
    ],
)
def test_a_hostile_plan_file_is_one_line_naming_it(fleet, content):
    fleet.plan.write_text(content)
    result = _apply(fleet)
    assert result.returncode in (1, EXIT_REFUSED), result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(fleet.plan) in lines[0] and "\x1b" not in result.stderr, result.stderr


def test_a_plan_that_is_a_folder_or_missing_is_one_line(fleet, tmp_path):
    for path in (tmp_path, tmp_path / "missing.json"):
        result = fleet("patch", "--plan", str(path), "--change-id", "CHG-7", "--yes")
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert str(path) in result.stderr


def test_the_run_options_are_planned_saved_and_run(fleet):
    result = fleet("plan", "patch", "-i", str(fleet.inv), "--reboot", "always", "--save", str(fleet.plan))
    assert result.returncode == 0, result.stderr
    assert "reboot: always" in result.stdout
    saved = json.loads(fleet.plan.read_text())
    assert saved["options"]["ccops_reboot"] == "always"
    ran = _apply(fleet)
    assert ran.returncode == 0, ran.stderr
    record = payload(fleet("runs", "show", payload(ran.stdout)["run_id"], "-o", "json").stdout)
    assert record["request"]["options"]["ccops_reboot"] == "always"
    wrong = fleet("plan", "inspect", "-i", str(fleet.inv), "--reboot", "always")
    assert wrong.returncode == 64 and "plan inspect takes no --reboot" in wrong.stderr


@pytest.mark.parametrize("output", ["text", "markdown", "json"])
def test_every_plan_output_states_the_night_and_ends_with_the_summary(fleet, output):
    result = fleet("plan", "patch", "-i", str(fleet.inv), "--site", "tst", "-o", output)
    assert result.returncode == 0, result.stderr
    summary = "4 hosts in 3 waves, 3 batches; 0 not touched"
    if output == "json":
        data = payload(result.stdout)
        assert data["summary"] == summary
        site = data["night"]["sites"]["tst"]
        assert site["gates"]["max_fail_percentage"] == 10 and site["windows"]["open_now"] is True
        assert (data["night"]["reboot"], data["night"]["offline"]) == ("if_required", False)
        return
    assert result.stdout.strip().splitlines()[-1].strip("*") == summary
    assert "canary 1 (max fail 0%)" in result.stdout and "window open now" in result.stdout
    assert "reboot: if_required" in result.stdout


def test_guards_come_before_the_prompt(fleet):
    (fleet.inv / "catalogue").mkdir()
    (fleet.inv / "catalogue" / "apps.yml").write_text(GOOD)
    # no --yes and no terminal: the old order refused for want of a confirmation, hiding the real reason
    result = fleet("software", "apply", "-i", str(fleet.inv), "--change-id", "CHG-7")
    assert result.returncode == EXIT_REFUSED and "is not staged and verified at site" in result.stderr
    assert "confirmation" not in result.stderr


def test_a_saved_plan_of_an_offline_inventory_is_refused_before_the_prompt(fleet):
    config = fleet.inv / "ccops.yml"
    config.write_text(config.read_text() + "offline: true\n")
    assert fleet("plan", "patch", "-i", str(fleet.inv), "--save", str(fleet.plan)).returncode == 0
    result = fleet("patch", "--plan", str(fleet.plan), "--change-id", "CHG-7")
    assert result.returncode == EXIT_REFUSED and "marked offline" in result.stderr, result.stderr


def test_a_verb_argument_may_repeat_what_the_plan_says_but_not_change_it(fleet):
    (fleet.inv / "catalogue").mkdir()
    (fleet.inv / "catalogue" / "apps.yml").write_text(GOOD)
    plan = ("plan", "software", "remove", "softphone", "-i", str(fleet.inv), "--site", "two", "--save", str(fleet.plan))
    assert fleet(*plan).returncode == 0
    run = ("--plan", str(fleet.plan), "--change-id", "CHG-7", "--yes", "-o", "json")
    other = fleet("software", "remove", "another-app", *run)
    assert other.returncode == 64 and "APP cannot be given with --plan" in other.stderr
    same = fleet("software", "remove", "softphone", *run)
    assert same.returncode == 0, same.stdout + same.stderr
    assert sorted(h["host"] for h in payload(same.stdout)["hosts"]) == ["two-t01", "two-t02"]
