"""ccops remediate on the command line: what it would fix (--dry-run) from a snapshot's real .deb changelogs."""

import pytest

from tests.cli.test_vulns_cli import HOST, OTHER, site  # noqa: F401 - the fixture: two hosts, a staged snapshot
from tests.conftest import EXAMPLE
from tests.json_output import payload


def _remediate(ccops, *args):
    return ccops("remediate", "-i", str(EXAMPLE), "--change-id", "CHG-9", *args)


@pytest.mark.parametrize("args", [(), ("--cve", "CVE-2024-9143", "--urgency", "high")])
def test_either_cves_or_an_urgency_is_required(site, args):  # noqa: F811
    result = _remediate(site, "--dry-run", *args)
    assert result.returncode == 64 and "either --cve ID" in result.stderr


def test_dry_run_lists_the_host_cve_package_and_fixing_version_and_touches_nothing(site):  # noqa: F811
    result = _remediate(site, "--cve", "CVE-2024-9143", "--dry-run", "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = payload(result.stdout)
    assert doc["status"] == "dry_run" and doc["runs"] == [] and doc["snapshots"] == []
    # the hostile host's version reads as damaged: it is no target
    assert [(t["host"], t["cve"], t["package"], t["fixing"]) for t in doc["targets"]] == [
        (HOST, "CVE-2024-9143", "libssl3", "3.0.15-1~deb13u1")
    ]
    assert OTHER not in result.stdout


def test_urgency_takes_that_level_and_the_more_urgent_ones(site):  # noqa: F811
    high = payload(_remediate(site, "--urgency", "high", "--dry-run", "-o", "json").stdout)
    low = payload(_remediate(site, "--urgency", "low", "--dry-run", "-o", "json").stdout)
    assert {t["cve"] for t in high["targets"]} == {"CVE-2024-9143"}
    assert {t["cve"] for t in low["targets"]} == {"CVE-2024-9143", "CVE-2024-5535"}
    text = _remediate(site, "--urgency", "low", "--dry-run").stdout
    assert "CVE-2024-5535" in text and "3.0.14-1~deb13u2" in text


def test_nothing_to_fix_says_so(site):  # noqa: F811
    result = _remediate(site, "--cve", "CVE-1999-0001", "--dry-run")
    assert result.returncode == 0 and "nothing to fix" in result.stdout
