"""ccops quarantine through the real CLI with scripted hosts (tests/cli/scripted_cli.py): a hold is a
recorded comply --fix run carrying its reason, and that run's host variables carry the overlay
(the held host admits only management, node, point and backup target; the others leave it out)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ccops.errors import EXIT_REFUSED, EXIT_USAGE
from tests.conftest import run_scripted, write_inventory
from tests.json_output import payload

SITE = """\
site:
  code: qa
  city: testcity
  timezone: UTC
  maintenance_windows: [{start: "00:00", end: "00:00"}]
  rollout: {canary: 1, waves: ["100%"], batch_size: 5, max_fail_percentage: 100}
  management: [10.9.200.5/32]
  distribution_point: {host: qa-dp01, path: /srv/dp}
  backup_target: {host: 10.9.0.250, path: /srv/backups}
  quarantine: {out_of_policy_days: 3}
connections:
  linux: {type: ssh, user: ccops, become: true}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: qa-a0[1:3]
    addresses: 127.0.5.1
  - name: points
    role: distribution_point
    os: debian12
    business_line: shared
    connection: linux
    hosts: qa-dp01
    addresses: 127.0.5.20
policies:
  - firewall:
      allow: [{ports: [22], from: [management]}, {ports: [5060], proto: udp, from: [site]}]
      deny: [10.66.0.0/16]
"""


@pytest.fixture
def fleet(tmp_path: Path):
    home = tmp_path / "home"
    hosts_file = tmp_path / "hosts.json"
    inventory = write_inventory(tmp_path / "inv", {"qa.yml": SITE})

    def run(
        *args: str, outcomes: dict[str, str] | None = None, reports: dict[str, dict] | None = None
    ) -> subprocess.CompletedProcess[str]:
        answers = {"outcomes": outcomes or {}, "reports": reports or {}}
        return run_scripted("tests.cli.scripted_cli", home, hosts_file, answers, *args)

    run.home = home  # type: ignore[attr-defined]
    run.inventory = str(inventory)  # type: ignore[attr-defined]
    return run


def _snapshot(home: Path, run_id: str) -> dict:
    return json.loads((home / "runs" / run_id / "inventory.ccops-snapshot.json").read_text())


def _comply(run, *args: str) -> dict:
    result = run("comply", "-i", run.inventory, "--fix", "--change-id", "CHG-2", "--yes", "-o", "json", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return payload(result.stdout)


def test_a_hold_is_a_recorded_comply_run_with_its_reason_and_the_overlay_on_both_sides(fleet):
    result = fleet(
        "quarantine", "-i", fleet.inventory, "qa-a02", "--reason", "found a rogue USB modem",
        "--change-id", "CHG-1", "--yes", "-o", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    run = payload(result.stdout)
    assert run["verb"] == "comply" and [h["host"] for h in run["hosts"]] == ["qa-a02"]
    shown = fleet("runs", "show", run["run_id"], "-o", "json")
    record = payload(shown.stdout)
    assert "hold qa-a02 (manual): found a rogue USB modem" in record["request"]["reason"]
    assert record["change_id"] == "CHG-1"

    held = _snapshot(fleet.home, run["run_id"])["hosts"]["qa-a02"]["vars"]["ccops_comply"]["firewall"]
    admitted = ["10.9.200.5", "127.0.5.20", "10.9.0.250"]  # management, the point (by name), the backup target
    assert held["allow"] == [
        {"proto": "tcp", "ports": ["1-65535"], "from": admitted},
        {"proto": "udp", "ports": ["1-65535"], "from": admitted},
    ]
    assert held["deny"] == ["10.66.0.0/16"]

    listed = payload(fleet("quarantine", "list", "-i", fleet.inventory, "-o", "json").stdout)["holds"]
    assert [(h["host"], h["kind"], h["applied_run"]) for h in listed] == [("qa-a02", "manual", run["run_id"])]

    # the next comply --fix of the others leaves qa-a02 (127.0.5.2) out of their "site" source
    other = _comply(fleet, "--limit", "qa-a01")
    sources = _snapshot(fleet.home, other["run_id"])["hosts"]["qa-a01"]["vars"]["ccops_comply"]["firewall"]["allow"]
    assert sources[1]["from"] == ["127.0.5.1", "127.0.5.3", "127.0.5.20"]


def test_lifting_records_a_run_and_restores_the_host_in_every_allow_list(fleet):
    hold = ("quarantine", "hold", "-i", fleet.inventory, "qa-a02", "--reason", "hands on", "--change-id", "CHG-1")
    assert fleet(*hold, "--yes").returncode == 0
    result = fleet("quarantine", "lift", "-i", fleet.inventory, "qa-a02", "--change-id", "CHG-3", "--yes", "-o", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    run = payload(result.stdout)
    own = _snapshot(fleet.home, run["run_id"])["hosts"]["qa-a02"]["vars"]["ccops_comply"]["firewall"]["allow"]
    assert own[0] == {"proto": "tcp", "ports": ["22"], "from": ["10.9.200.5"]}
    record = payload(fleet("runs", "show", run["run_id"], "-o", "json").stdout)
    assert "lift qa-a02: lifted by hand" in record["request"]["reason"]
    assert payload(fleet("quarantine", "list", "-i", fleet.inventory, "-o", "json").stdout)["holds"] == []
    history = payload(fleet("quarantine", "list", "--all", "-i", fleet.inventory, "-o", "json").stdout)["holds"]
    assert history[0]["lifted_run"] == run["run_id"] and history[0]["lift_reason"] == "lifted by hand"
    other = _comply(fleet, "--limit", "qa-a01")
    sources = _snapshot(fleet.home, other["run_id"])["hosts"]["qa-a01"]["vars"]["ccops_comply"]["firewall"]["allow"]
    assert "127.0.5.1-127.0.5.3" in sources[1]["from"]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("qa-dp01", "--reason", "x", "--change-id", "C", "--yes"), EXIT_REFUSED, "distribution point"),
        (("qa-a01", "--reason", "{{ lookup('pipe', 'id') }}", "--change-id", "C", "--yes"), EXIT_USAGE, "--reason"),
        (("qa-a01", "--reason", "x", "--change-id", "C"), EXIT_REFUSED, "pass --yes"),
        (("lift", "qa-a01", "--change-id", "C", "--yes"), EXIT_USAGE, "not held"),
    ],
)
def test_refusals_are_one_line_and_nothing_is_held(fleet, args, code, words):
    result = fleet("quarantine", *args[:1], "-i", fleet.inventory, *args[1:])
    assert result.returncode == code, result.stdout + result.stderr
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert payload(fleet("quarantine", "list", "-i", fleet.inventory, "-o", "json").stdout)["holds"] == []


def test_evaluate_is_a_dry_run_by_default(fleet):
    result = fleet("quarantine", "evaluate", "-i", fleet.inventory)
    assert result.returncode == 0, result.stderr
    assert "no hold to set or lift" in result.stdout
    assert fleet("quarantine", "evaluate", "-i", fleet.inventory, "--apply").returncode == EXIT_USAGE


def _report(*deviations: str) -> dict:
    return {
        "outcome": "noncompliant" if deviations else "compliant",
        "reason": f"{len(deviations)} deviation(s)",
        "deviations": [{"policy": "usb_storage", "detail": d} for d in deviations],
        "fixed": [],
        "policies": ["usb_storage", "firewall"],
    }


def test_the_policy_holds_a_host_out_of_policy_and_lifts_it_after_a_later_passing_check(fleet, tmp_path):
    site = Path(fleet.inventory) / "sites" / "qa.yml"
    check = ("comply", "-i", fleet.inventory, "--check", "-o", "json")
    fleet(*check, reports={"qa-a01": _report("usb storage is allowed")})  # 3 days allowed: not held yet
    site.write_text(site.read_text().replace("out_of_policy_days: 3", "out_of_policy_days: 0"))
    dry = fleet("quarantine", "evaluate", "-i", fleet.inventory, "-o", "json")
    assert dry.returncode == 0, dry.stderr
    shown = payload(dry.stdout)
    assert [h["host"] for h in shown["hold"]] == ["qa-a01"] and not shown["applied"]
    assert payload(fleet("quarantine", "list", "-i", fleet.inventory, "-o", "json").stdout)["holds"] == []

    apply = ("quarantine", "evaluate", "-i", fleet.inventory, "--apply", "--change-id", "CHG-9", "--yes")
    held = fleet(*apply, reports={"qa-a01": _report()})  # the hold's own fix puts the host right
    assert held.returncode == 0, held.stdout + held.stderr
    assert "hold qa-a01: out of policy for" in held.stdout and "qa-a01: held apart (automatic)" in held.stdout
    (hold,) = payload(fleet("quarantine", "list", "-i", fleet.inventory, "-o", "json").stdout)["holds"]
    record = payload(fleet("runs", "show", hold["applied_run"], "-o", "json").stdout)
    assert record["verb"] == "comply" and "hold qa-a01 (automatic): out of policy for" in record["request"]["reason"]

    # the run that applied the hold does not lift it: a later check must pass
    assert "no hold to set or lift" in fleet("quarantine", "evaluate", "-i", fleet.inventory).stdout
    # the passing check lifts it by itself (ccops.quarantine.auto: evaluated at the end of the check)
    fleet(*check, "--limit", "qa-a01", reports={"qa-a01": _report()})
    assert payload(fleet("quarantine", "list", "-i", fleet.inventory, "-o", "json").stdout)["holds"] == []
    (lifted,) = payload(fleet("quarantine", "list", "--all", "-i", fleet.inventory, "-o", "json").stdout)["holds"]
    assert lifted["lift_reason"].startswith("in policy at comply run") and lifted["lifted_run"]


def test_a_hold_whose_run_cannot_reach_the_host_stays_recorded_and_listed(fleet):
    args = ("quarantine", "-i", fleet.inventory, "qa-a03", "--reason", "lost laptop", "--change-id", "CHG-4", "--yes")
    result = fleet(*args, outcomes={"qa-a03": "unreachable"})
    assert result.returncode == 2, result.stdout + result.stderr  # the run's own exit code: a host failed
    assert (
        "qa-a03: held apart (manual); 3 other host(s) drop it at their next comply --fix: qa-a01, qa-a02, qa-dp01"
        in (result.stdout)
    )
    listed = fleet("quarantine", "list", "-i", fleet.inventory, "--site", "qa")
    assert listed.returncode == 0 and "qa-a03" in listed.stdout and "lost laptop" in listed.stdout
    assert "manual" in listed.stdout
    assert "no host is held apart" in fleet("quarantine", "list", "-i", fleet.inventory, "-l", "qa-a01").stdout
    (hold,) = payload(fleet("quarantine", "list", "-i", fleet.inventory, "-o", "json").stdout)["holds"]
    assert hold["applied_run"] is None  # recorded, but not on the host yet: its next reached comply --fix does it
