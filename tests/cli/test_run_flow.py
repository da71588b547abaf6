"""A night's run as it happens, through the real CLI with scripted hosts (tests/cli/scripted_cli.py):
a run that refused every host says so (its own status and exit code, refusals counted by reason)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ccops.errors import EXIT_NOTHING_DONE, EXIT_OK
from tests.conftest import run_scripted, write_inventory
from tests.json_output import payload

SITE = """\
site:
  code: {code}
  city: testcity
  timezone: UTC
  maintenance_windows: {windows}
  rollout: {{canary: 1, waves: ["100%"], batch_size: 2, max_fail_percentage: 100}}
  backup_target: {{host: localhost, path: /var/tmp/ccops-run-flow}}
connections:
  linux: {{type: ssh, user: ccops, become: true}}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: {code}-a0[1:3]
    addresses: {address}
"""
ALWAYS_OPEN = '[{start: "00:00", end: "00:00"}]'
NEVER_OPEN = "[]"


@pytest.fixture
def fleet(tmp_path: Path):
    home = tmp_path / "home"
    hosts_file = tmp_path / "hosts.json"

    def run(*args: str, outcomes: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return run_scripted("tests.cli.scripted_cli", home, hosts_file, {"outcomes": outcomes or {}}, *args)

    def inventory(**windows: str) -> str:
        sites = {
            f"{code}.yml": SITE.format(code=code, windows=w, address=f"127.0.{n}.9")
            for n, (code, w) in enumerate(windows.items(), 1)
        }
        return str(write_inventory(tmp_path / "inv", sites))

    run.inventory = inventory  # type: ignore[attr-defined]
    return run


def patch(fleet: Any, inv: str, *extra: str, outcomes: dict[str, str] | None = None) -> Any:
    return fleet("patch", "-i", inv, "--change-id", "CHG-1", "--yes", *extra, outcomes=outcomes)


def test_a_run_that_refused_every_host_is_nothing_done(fleet):
    inv = fleet.inventory(par=NEVER_OPEN, lyo=NEVER_OPEN)
    result = patch(fleet, inv, "-o", "json")
    assert result.returncode == EXIT_NOTHING_DONE, result.stderr
    data = payload(result.stdout)
    assert data["status"] == "nothing_done"
    assert {h["outcome"] for h in data["hosts"]} == {"refused"}
    assert "6 refused" in data["message"]
    listed = fleet("runs", "list", "-o", "json")
    assert payload(listed.stdout)[0]["status"] == "nothing_done"


def test_refusals_are_counted_by_reason_at_the_end_of_the_run(fleet):
    inv = fleet.inventory(par=NEVER_OPEN, lyo=ALWAYS_OPEN)
    result = patch(fleet, inv, outcomes={"lyo-a01": "refused", "lyo-a02": "refused", "lyo-a03": "refused"})
    assert result.returncode == EXIT_NOTHING_DONE, result.stderr
    # as it happens: each batch of the closed site says it was refused, and why
    said = [line for line in result.stderr.splitlines() if line.startswith("   REFUSED ")]
    assert [line.split(":", 1)[0] for line in said] == ["   REFUSED     1 host(s)", "   REFUSED     2 host(s)"]
    assert all("maintenance window closed at site par" in line for line in said)
    last = result.stderr.strip().splitlines()[-1]
    assert last == "6 refused: maintenance window closed at site par (3); seat busy (3)", result.stderr


def test_a_run_with_one_host_done_is_not_nothing_done(fleet):
    inv = fleet.inventory(par=NEVER_OPEN, lyo=ALWAYS_OPEN)
    result = patch(fleet, inv, "-o", "json", outcomes={"lyo-a01": "refused", "lyo-a02": "refused"})
    assert result.returncode == EXIT_OK, result.stderr
    data = payload(result.stdout)
    assert data["status"] == "succeeded"
    assert "5 refused" not in result.stderr  # -o json: progress stays quiet


def test_events_through_the_cli_for_a_verb_and_for_resume(fleet, tmp_path):
    inv = fleet.inventory(lyo=ALWAYS_OPEN)
    first = tmp_path / "patch.jsonl"
    failed = patch(fleet, inv, "--events", str(first), outcomes={"lyo-a01": "failed"})
    assert failed.returncode == 2, failed.stderr
    events = [json.loads(line) for line in first.read_text().splitlines()]
    batch = ["batch_started", "host_result", "batch_ended"]
    assert [e["type"] for e in events] == [
        "run_started",
        *batch,
        "batch_started",
        "host_result",
        "host_result",
        "batch_ended",
        "run_ended",
    ]
    assert events[-1]["status"] == "failed" and events[-1]["outcomes"] == {"failed": 1, "ok": 2}
    again = tmp_path / "resume.jsonl"
    resumed = fleet("resume", events[0]["run_id"], "--yes", "--events", str(again))
    assert resumed.returncode == EXIT_OK, resumed.stderr
    events = [json.loads(line) for line in again.read_text().splitlines()]
    assert events[0]["resumed"] is True and events[-1]["status"] == "succeeded"


def test_an_events_file_in_a_missing_folder_is_refused_before_any_host(fleet, tmp_path):
    inv = fleet.inventory(lyo=ALWAYS_OPEN)
    result = patch(fleet, inv, "--events", str(tmp_path / "nowhere" / "run.jsonl"))
    assert result.returncode == 64
    assert result.stderr.strip().splitlines() == [
        f"ccops: --events {tmp_path}/nowhere/run.jsonl: no such folder {tmp_path}/nowhere; create it first"
    ]
    assert payload(fleet("runs", "list", "-o", "json").stdout) == []


def test_events_to_standard_output_come_first_then_the_report(fleet):
    inv = fleet.inventory(lyo=ALWAYS_OPEN)
    result = patch(fleet, inv, "--events", "-", "-o", "json")
    assert result.returncode == EXIT_OK, result.stderr
    decoder, text, values = json.JSONDecoder(), result.stdout, []
    position = 0
    while text[position:].strip():  # a stream of JSON values, as jq reads it
        value, end = decoder.raw_decode(text, position + len(text[position:]) - len(text[position:].lstrip()))
        values.append(value)
        position = end
    *events, document = values
    report = document["data"]  # the report in its envelope, after the stream's own versioned lines
    assert events[0]["type"] == "run_started" and events[-1]["type"] == "run_ended"
    assert report["run_id"] == events[0]["run_id"] and report["status"] == "succeeded"
    assert all(line.startswith('{"v": 1, ') for line in text.splitlines()[: len(events)])
