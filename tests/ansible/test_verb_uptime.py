"""ccops uptime: the smallest read-only verb, added as a registry entry, a playbook and a role.

Its role runs for real on this machine (local connection, the runner's own event collector parses
its report into the verb's declared fact); the command prints the fact per host and keeps a value a
host sends that is no number out of the record, as damage.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import ansible_runner

from ccops.runner.events import EventCollector
from tests.conftest import ROOT, run_scripted, site_text, write_inventory
from tests.json_output import payload

HOST_VARS = {
    "ansible_connection": "local",
    "ansible_python_interpreter": sys.executable,
    "ccops_site": "tst",
    "ccops_os": "debian12",
    "ccops_os_family": "debian",
    "ccops_lifecycle": "active",
}


def test_the_role_reports_this_machines_uptime_in_the_declared_shape(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"here": HOST_VARS}}}))
    (tmp_path / "run").mkdir()
    collector = EventCollector(verb="uptime")
    before = float(Path("/proc/uptime").read_text().split()[0])
    result = ansible_runner.run(
        private_data_dir=str(tmp_path / "run"),
        project_dir=str(ROOT),
        playbook="playbooks/uptime.yml",
        inventory=str(inventory),
        extravars={"ccops_action": "uptime"},
        event_handler=collector,
        quiet=True,
        suppress_env_files=True,
    )
    after = float(Path("/proc/uptime").read_text().split()[0])
    assert result.rc == 0, result.stdout.read()
    report = collector.reports["here"]
    assert report["outcome"] == "gathered" and collector.damaged.get("here") in (None, [])
    assert int(before) <= report["uptime_seconds"] <= after


def test_ccops_uptime_prints_each_hosts_uptime_and_records_only_numbers(tmp_path: Path) -> None:
    inv = write_inventory(tmp_path / "inv", {"tst.yml": site_text(count=2)})
    reports = {
        "tst-t01": {"outcome": "gathered", "reason": "", "uptime_seconds": 3 * 86400 + 4 * 3600},
        "tst-t02": {"outcome": "gathered", "reason": "", "uptime_seconds": "\x1b]52;c;bG9s\x07 forever"},
    }
    answers = {"reports": reports}
    shown = run_scripted(
        "tests.cli.scripted_cli", tmp_path / "home", tmp_path / "h.json", answers, "uptime", "-i", str(inv)
    )
    rows = {line.split()[0]: line.split() for line in shown.stdout.splitlines() if line.startswith("tst-")}
    assert shown.stdout.splitlines()[0].split()[:3] == ["HOST", "RESULT", "UP"]
    assert rows["tst-t01"][2:4] == ["3d", "4h"]
    assert rows["tst-t02"][2] == "-" and "\x1b" not in shown.stdout
    as_json = run_scripted(
        "tests.cli.scripted_cli",
        tmp_path / "home",
        tmp_path / "h.json",
        answers,
        "uptime",
        "-i",
        str(inv),
        "-o",
        "json",
    )
    recorded = payload(as_json.stdout)["reports"]
    assert recorded["tst-t01"]["uptime_seconds"] == 273600
    assert "uptime_seconds" not in recorded["tst-t02"] and recorded["tst-t02"]["damaged"]
