"""ccops comply on the command line: modes, guards, and JUnit XML for hosts that cannot be checked.

Runs go against loopback hosts that never answer (tests/cli/loopback.py).
"""

import json
import xml.etree.ElementTree as ET

import pytest

from ccops.errors import EXIT_HOSTS_FAILED, EXIT_REFUSED, EXIT_USAGE
from tests.cli.loopback import ClosedPort, loopback_inventory
from tests.conftest import EXAMPLE
from tests.json_output import payload

POLICY = "policies:\n  - {usb_storage: blocked, services: [ssh]}\n"


@pytest.fixture
def inventory(tmp_path):
    port = ClosedPort()
    folder = loopback_inventory(tmp_path / "inv", [port.port])
    with (folder / "sites" / "lo.yml").open("a") as handle:
        handle.write(POLICY)
    yield folder
    port.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "needs --check (report) or --fix"),
        (("--fix", "--yes"), "--fix needs --change-id"),
        (("--check", "--yes"), "go with --fix"),
    ],
)
def test_the_mode_and_its_options_are_checked_before_anything_runs(ccops, inventory, args, message):
    result = ccops("comply", "-i", str(inventory), *args)
    assert result.returncode == EXIT_USAGE and message in result.stderr, result.stderr
    assert not (ccops.home / "runs").exists()


def test_fix_asks_first_and_a_pipeline_without_yes_is_refused(ccops, inventory):
    result = ccops("comply", "-i", str(inventory), "--fix", "--change-id", "CHG-1")
    assert result.returncode == EXIT_REFUSED and "pass --yes" in result.stderr


def test_an_unreachable_host_fails_the_check_and_is_an_errored_case_in_junit(ccops, inventory, tmp_path):
    junit, out = tmp_path / "comply.xml", tmp_path / "comply.json"
    result = ccops("comply", "-i", str(inventory), "--check", "--junit", str(junit), "--json", str(out))
    assert result.returncode == EXIT_HOSTS_FAILED, result.stdout + result.stderr
    assert "lo-t01" in result.stdout and "unreachable" in result.stdout
    root = ET.parse(junit).getroot()  # noqa: S314 (the file ccops just wrote)
    assert root.get("errors") == "1" and root.find("testsuite/testcase/error") is not None
    assert json.loads(out.read_text())["verb"] == "comply-check"


def test_the_plan_names_the_fix_steps_for_both_families(ccops):
    result = ccops("plan", "comply", "-i", str(EXAMPLE), "--site", "shapd", "-o", "json")
    assert result.returncode == 0, result.stderr
    files = {s["file"] for a in payload(result.stdout)["actions"] for s in a["tasks"]}
    assert {"roles/comply/tasks/apply_debian.yml", "roles/comply/tasks/apply_windows.yml"} <= files


def test_a_deny_list_that_locks_ccops_out_is_refused_before_any_run(ccops, tmp_path):
    """nftables drops a denied address before any allow rule: deny 0.0.0.0/0 would shut every seat."""
    folder = loopback_inventory(tmp_path / "lock", [9])
    site = folder / "sites" / "lo.yml"
    text = site.read_text().replace("  rollout:", "  management: [10.9.200.5]\n  rollout:")
    site.write_text(text + "policies:\n  - firewall: {allow: [{ports: [22], from: [management]}], deny: [0.0.0.0/0]}\n")
    line = len(text.splitlines()) + 2
    for mode in (["--check"], ["--fix", "--change-id", "CHG-1", "--yes"]):
        result = ccops("comply", "-i", str(folder), *mode)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert f"sites/lo.yml:{line}: policies[0].firewall.deny[0]: 0.0.0.0/0 contains 10.9.200.5" in result.stderr
    assert not (ccops.home / "runs").exists() or not any((ccops.home / "runs").iterdir())
