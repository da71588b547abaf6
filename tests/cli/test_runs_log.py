"""ccops runs log RUN [HOST]: one host's Ansible output of a run, read from its artifacts, safe for a terminal.

The first test runs real Ansible against loopback ports that refuse connections
(tests/cli/loopback.py): nothing leaves 127.0.0.0/8.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccops.errors import EXIT_USAGE
from tests.cli.loopback import ClosedPort, loopback_inventory
from tests.json_output import payload


@pytest.fixture
def closed_ports():
    ports = [ClosedPort() for _ in range(2)]
    yield [p.port for p in ports]
    for port in ports:
        port.close()


@pytest.fixture
def inspected(ccops, tmp_path, closed_ports):
    inventory = loopback_inventory(tmp_path / "inv", closed_ports)
    result = ccops("inspect", "-i", str(inventory), "--output", "json")
    assert result.returncode == 2, result.stderr  # both unreachable
    return payload(result.stdout)["run_id"], closed_ports


def test_one_hosts_ansible_output_and_only_its_own(ccops, inspected):
    run_id, ports = inspected
    whole = ccops("runs", "log", run_id)
    assert whole.returncode == 0, whole.stderr
    assert "lo-t01" in whole.stdout and "lo-t02" in whole.stdout
    one = ccops("runs", "log", run_id[:15], "lo-t02")
    assert one.returncode == 0, one.stderr
    assert "UNREACHABLE!" in one.stdout and str(ports[1]) in one.stdout
    assert "lo-t01" not in one.stdout and str(ports[0]) not in one.stdout
    assert one.stdout.startswith("== w1-b1-a1\nPLAY [")  # under its batch, play and task
    assert any(line.startswith("lo-t02 ") for line in one.stdout.splitlines())  # its recap line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("20991231T000000Z-abcdef",), "no run '20991231T000000Z-abcdef'"),
        (("*",), "is not a run id"),
        (("{run}", "lo-t99"), "has no host 'lo-t99'"),
    ],
)
def test_an_unknown_run_or_host_is_one_line_and_a_usage_error(ccops, inspected, args, says):
    run_id, _ = inspected
    result = ccops("runs", "log", *(a.format(run=run_id) for a in args))
    assert result.returncode == EXIT_USAGE
    assert len(result.stderr.strip().splitlines()) == 1 and says in result.stderr, result.stderr
    assert result.stdout == ""


def _plant(home: Path, run_id: str, events: dict[str, object]) -> None:
    folder = home / "runs" / run_id / "artifacts" / "w1-b1-a1" / "job_events"
    for name, event in events.items():
        (folder / name).write_text(event if isinstance(event, str) else json.dumps(event))


def test_what_a_host_made_ansible_print_is_shown_never_obeyed(ccops, inspected):
    run_id, _ = inspected
    hostile = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\x1b[0m done\r\nnext\u202eline"
    _plant(
        ccops.home,
        run_id,
        {
            "900-x.json": {
                "counter": 900,
                "event": "runner_on_ok",
                "stdout": hostile,
                "event_data": {"host": "lo-t01"},
            },
            "901-y.json": "{not json",
        },
    )
    result = ccops("runs", "log", run_id, "lo-t01")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout
    assert "\\x1b]0;owned" in result.stdout and "red done" in result.stdout  # Ansible's colours dropped, the rest shown
    assert "901-y.json" in result.stderr  # a damaged event file is named, and skipped


def test_a_host_that_never_ran_says_why(ccops, tmp_path):
    from tests.cli.test_run_flow import NEVER_OPEN, SITE
    from tests.conftest import write_inventory

    inventory = write_inventory(
        tmp_path / "inv", {"par.yml": SITE.format(code="par", windows=NEVER_OPEN, address="127.0.3.9")}
    )
    result = ccops("patch", "-i", str(inventory), "--change-id", "CHG-1", "--yes", "-o", "json")
    assert result.returncode == 6, result.stderr
    run_id = payload(result.stdout)["run_id"]
    shown = ccops("runs", "log", run_id, "par-a01")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("par-a01: refused, no Ansible output: maintenance window closed at site par")
    whole = ccops("runs", "log", run_id)
    assert whole.returncode == 0 and "no Ansible output" in whole.stdout
