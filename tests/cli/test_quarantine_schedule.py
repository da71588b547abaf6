"""``run: quarantine evaluate`` in schedules.yml: a firing applies what the site's quarantine policy
holds or lifts now as one comply --fix run under the schedule's standing change, recorded as the
schedule's; with nothing to change it runs and records nothing. Real CLI, scripted hosts."""

from __future__ import annotations

from pathlib import Path

from ccops.errors import EXIT_OK
from tests.cli.test_quarantine_cli import _report, fleet  # noqa: F401 - the fixture
from tests.json_output import payload

SCHEDULES = """\
schedules:
  - name: qa-quarantine
    site: qa
    run: quarantine evaluate
    at: "06:00"
    change_id: STD-QUARANTINE
"""


def test_a_quarantine_schedule_holds_what_the_policy_says_under_its_standing_change(fleet):  # noqa: F811
    inventory = Path(fleet.inventory)
    (inventory / "schedules.yml").write_text(SCHEDULES)
    check = ("comply", "-i", fleet.inventory, "--check", "-o", "json")
    fleet(*check, reports={"qa-a01": _report("usb storage is allowed")})  # 3 days allowed: not held by the check
    site = inventory / "sites" / "qa.yml"
    site.write_text(site.read_text().replace("out_of_policy_days: 3", "out_of_policy_days: 0"))

    fired = fleet("schedule", "run", "qa-quarantine", "-i", fleet.inventory, reports={"qa-a01": _report()})
    assert fired.returncode == EXIT_OK, fired.stdout + fired.stderr
    (hold,) = payload(fleet("quarantine", "list", "-i", fleet.inventory, "-o", "json").stdout)["holds"]
    assert (hold["host"], hold["kind"], hold["change_id"]) == ("qa-a01", "automatic", "STD-QUARANTINE")
    record = payload(fleet("runs", "show", hold["applied_run"], "-o", "json").stdout)
    assert record["verb"] == "comply" and record["change_id"] == "STD-QUARANTINE"
    assert record["request"]["schedule"]["name"] == "qa-quarantine" and record["request"]["schedule"]["standing"]
    assert "hold qa-a01 (automatic): out of policy for" in record["request"]["reason"]

    runs = len(payload(fleet("runs", "list", "-o", "json").stdout))
    again = fleet("schedule", "run", "qa-quarantine", "-i", fleet.inventory)
    assert again.returncode == EXIT_OK, again.stdout + again.stderr
    assert "no hold to set or lift" in again.stdout + again.stderr
    assert len(payload(fleet("runs", "list", "-o", "json").stdout)) == runs  # nothing run, nothing recorded


def test_a_quarantine_schedule_takes_no_selectors(fleet):  # noqa: F811
    (Path(fleet.inventory) / "schedules.yml").write_text(SCHEDULES + "    limit: [qa-a01]\n")
    listed = fleet("schedule", "list", "-i", fleet.inventory)
    assert listed.returncode != EXIT_OK
    assert listed.stderr.count("\n") == 1 and "schedules.yml:2" in listed.stderr, listed.stderr
    assert "quarantine evaluate takes no options or selectors" in listed.stderr
