"""An option means one thing in every command, and an unknown name is a usage error (64) everywhere."""

from __future__ import annotations

import pytest

from ccops.errors import EXIT_USAGE
from tests.conftest import EXAMPLE, online_example
from tests.json_output import payload


def test_report_output_is_a_format_and_to_is_the_file(ccops, tmp_path):
    as_json = ccops("report", "-i", str(EXAMPLE), "-o", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert isinstance(payload(as_json.stdout), dict)
    page = tmp_path / "out" / "report.csv"
    page.parent.mkdir()
    written = ccops("report", "-i", str(EXAMPLE), "--output", "csv", "--to", str(page))
    assert written.returncode == 0, written.stderr
    assert page.read_text().count("\n") > 1 and written.stdout == ""
    # the old spelling, --output FILE, is refused in one line that says what to type; nothing is written
    old = ccops("report", "-i", str(EXAMPLE), "--output", str(tmp_path / "old.html"))
    assert old.returncode == EXIT_USAGE and "--to FILE" in old.stderr and "Traceback" not in old.stderr
    assert not (tmp_path / "old.html").exists()


def test_host_diff_takes_an_inventory(ccops, tmp_path):
    result = ccops("host", "diff", "njjy-db0001", "-i", str(EXAMPLE))
    # a host the inventory knows but nobody inspected yet: a fact (1), not a bad name
    assert result.returncode == 1 and "never inspected" in result.stderr, result.stderr


def test_rollback_requires_a_change_id_like_every_changing_command(ccops, tmp_path):
    online = online_example(tmp_path / "online")
    missing = ccops("rollback", "shapd-db0001", "--to", "x", "-i", str(online), "--yes")
    assert missing.returncode == EXIT_USAGE and "--change-id" in missing.stderr


@pytest.mark.parametrize(
    ("pattern", "hint"),
    [
        ("njjy-db0001,shapd-db0001", "repeat --limit"),
        ("njjy-*:shapd-*", "repeat --limit"),
        ("!njjy-*", "exclusion"),
        ("@hosts.txt", "host-list file"),
        ("~njjy.*", "regular expression"),
    ],
)
def test_limit_explains_ansible_patterns_it_does_not_take(ccops, pattern, hint):
    result = ccops("inventory", "list", "-i", str(EXAMPLE), "--limit", pattern)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.count("\n") == 1 and hint in result.stderr and "matches no host" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("host", "show", "nosuch-host", "-i", "EXAMPLE"),
        ("host", "diff", "nosuch-host", "-i", "EXAMPLE"),
        ("inventory", "show", "nosuch-host", "-i", "EXAMPLE"),
        ("backups", "list", "nosuch-host", "-i", "EXAMPLE"),
        ("rollback", "nosuch-host", "--to", "x", "-i", "ONLINE", "--yes", "--change-id", "CHG-1"),
        ("rollback", "shapd-db0001", "--to", "nosuch", "-i", "ONLINE", "--yes", "--change-id", "CHG-1"),
        ("report", "-i", "EXAMPLE", "--site", "nosuch"),
        ("risks", "-i", "EXAMPLE", "--site", "nosuch"),
        ("runs", "show", "nosuchrun"),
        ("resume", "nosuchrun", "--yes"),
    ],
)
def test_an_unknown_name_exits_64(ccops, tmp_path, args):
    places = {"EXAMPLE": str(EXAMPLE), "ONLINE": str(online_example(tmp_path / "online")) if "ONLINE" in args else ""}
    result = ccops(*(places.get(a, a) for a in args))
    assert result.returncode == EXIT_USAGE, result.stderr
    assert result.stderr.count("\n") == 1 and "nosuch" in result.stderr and "Traceback" not in result.stderr
