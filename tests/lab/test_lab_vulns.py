"""Scenario 2 on the lab: real CVEs found per host from the snapshot's changelogs, one fixed by remediate.

The lab hosts are installed from their releases without the -security suites, so real CVEs are
pending. A content snapshot of the site, then an inspection: `ccops vulns` lists fixable CVEs with
the ids Debian's changelogs name, on every Debian variant. `ccops remediate --cve` (the CVE picked
from that output, never hard-coded) fixes it on every host that has it, in waves, upgrading nothing
outside the fixing source package; after a reboot under the restore card it stays fixed. The tests
run in file order; the hosts are given back fresh.
"""

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec, reboot, versions

pytestmark = pytest.mark.lab
HOSTS = ["lab-deb11-01", "lab-deb12-01", "lab-deb13-01"]
POINT = "lab-deb11-01"
STATE: dict = {}


@pytest.fixture(scope="module")
def lab(lab_home):
    yield lab_home
    pexec(POINT, "systemctl", "disable", "--now", "ccops-distribution-point.service", check=False)
    pexec(POINT, "rm", "-rf", "/etc/systemd/system/ccops-distribution-point.service", "/srv/ccops-dist", check=False)
    for host in HOSTS:  # every host was patched: later modules start from what lab up makes
        subprocess.run(["podman", "rm", "-f", "-t", "0", f"ccops-lab-{host}"], capture_output=True, check=False)
    run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True, timeout=1800)
    shutil.rmtree(lab_home / "content", ignore_errors=True)


def ccops_json(home: Path, *args: str, timeout: float = 900) -> tuple[int, dict, str]:
    result = run_ccops(home, *args, "--output", "json", timeout=timeout)
    return result.returncode, payload(result.stdout) if result.stdout.strip() else {}, result.stderr


def _fixable(home: Path, *args: str) -> list[dict]:
    code, doc, err = ccops_json(home, "vulns", "--state", "fixable", *args)
    assert code == 0, err[-2000:]
    return [r for r in doc["rows"] if r["origin"] == "changelog"]


def test_vulns_lists_real_cves_from_the_changelogs_on_every_variant(lab):
    code, _, err = ccops_json(lab, "content", "snapshot", "--site", "lab", "--change-id", "CHG-VULN-1")
    assert code == 0, err[-3000:]
    run_ccops(lab, "inspect", check=True, timeout=900)
    rows = _fixable(lab)
    for host in HOSTS:
        mine = [r for r in rows if r["host"] == host]
        assert mine, f"{host}: no fixable CVE listed"
        assert all(re.fullmatch(r"CVE-\d{4}-\d{4,7}", r["cve"]) and r["fixing"] and r["snapshot"] for r in mine)
    # the CVE on the most hosts, carried by the fewest packages: a short, real remediation
    hosts_per_cve = Counter(r["cve"] for r in {(r["host"], r["cve"]): r for r in rows}.values())
    packages = {cve: {r["package"] for r in rows if r["cve"] == cve} for cve in hosts_per_cve}
    cve = min(hosts_per_cve, key=lambda c: (-hosts_per_cve[c], len(packages[c]), c))
    STATE["cve"], STATE["hosts"] = cve, sorted({r["host"] for r in rows if r["cve"] == cve})


def test_remediate_fixes_the_cve_on_every_host_and_upgrades_nothing_else(lab):
    cve, hosts = STATE["cve"], STATE["hosts"]
    before = {h: versions(h) for h in HOSTS}
    fix = ("remediate", "--cve", cve, "--change-id", "CHG-VULN-2", "--approve", "--yes")
    code, doc, err = ccops_json(lab, *fix, timeout=1800)
    assert code == 0, err[-3000:]
    assert doc["status"] == "fixed"
    assert {(r["host"], r["state"]) for r in doc["results"]} == {(h, "fixed") for h in hosts}
    assert all(s["approval"]["change_id"] == "CHG-VULN-2" for s in doc["snapshots"])
    allowed = {p for s in doc["snapshots"] for release in s["packages"].values() for p in release["packages"]}
    for host in HOSTS:
        after = versions(host)
        changed = {n for n, v in after.items() if before[host].get(n) != v}
        assert changed <= allowed, (host, changed - allowed)  # nothing outside the fixing packages
        assert not set(before[host]) - set(after), host
        assert bool(changed) == (host in hosts), (host, changed)
    # the patch verb's own run, in the site's waves (the lab's: a canary, then 50 % and 100 %)
    shown = [ccops_json(lab, "runs", "show", run)[1] for run in doc["runs"]]
    patch = [r for r in shown if r["verb"] == "patch"]
    assert len(patch) == 1, [r["verb"] for r in shown]
    waves = patch[0]["plan"]["waves"]
    assert sorted(h for w in waves for b in w["batches"] for h in b["hosts"]) == hosts
    assert len(waves) == min(len(hosts), 3)


def test_the_fix_stays_after_a_reboot_under_the_restore_card(lab):
    cve, hosts = STATE["cve"], STATE["hosts"]
    for host in hosts:
        reboot(host)
    run_ccops(lab, "inspect", *[a for h in hosts for a in ("--limit", h)], check=True, timeout=900)
    code, doc, err = ccops_json(lab, "vulns", "--cve", cve)
    assert code == 0, err
    assert {(r["host"], r["state"]) for r in doc["rows"] if r["origin"] == "changelog"} == {(h, "fixed") for h in hosts}
