"""Approved patch content on the lab: a snapshot of the lab hosts' pending security updates.

The snapshot is taken on the lab site's point (its first host): each host lists
what it would install, a host of each release downloads it, the controller
checks it against the signed index, signs it and stages it. Unapproved, a patch
from it is refused before any host is touched; a site's approve-after-days rule
approves it by age; approved, `ccops plan patch`
lists the versions per host and `ccops patch` installs exactly those on the
patched host. The tests run in file order; the hosts are given back fresh.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec, versions

pytestmark = pytest.mark.lab
HOSTS = ["lab-deb11-01", "lab-deb12-01", "lab-deb13-01"]
POINT = "lab-deb11-01"
PATCHED = "lab-deb12-01"  # one host patched: the others need only be listed and planned
STATE: dict = {}


@pytest.fixture(scope="module")
def lab(lab_home):
    yield lab_home
    # the point loses its web server and folder; the patched host goes back to what lab up makes
    # (later modules patch fresh hosts)
    pexec(POINT, "systemctl", "disable", "--now", "ccops-distribution-point.service", check=False)
    pexec(POINT, "rm", "-rf", "/etc/systemd/system/ccops-distribution-point.service", "/srv/ccops-dist", check=False)
    pexec(POINT, "/usr/local/sbin/ccops-restore-card", "rebaseline", check=False)
    subprocess.run(["podman", "rm", "-f", "-t", "0", f"ccops-lab-{PATCHED}"], capture_output=True, check=False)
    run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True, timeout=1800)
    # and the snapshots go with the point: a site with an approved snapshot patches from it, and
    # the later modules patch the lab from its archive
    shutil.rmtree(lab_home / "content", ignore_errors=True)


def ccops_json(home: Path, *args: str, timeout: float = 900) -> tuple[int, object, str]:
    result = run_ccops(home, *args, "--output", "json", timeout=timeout)
    return result.returncode, payload(result.stdout) if result.stdout.strip() else None, result.stderr


def test_a_snapshot_holds_the_hosts_pending_security_updates_and_is_refused_until_approved(lab):
    code, doc, err = ccops_json(lab, "content", "snapshot", "--site", "lab", "--change-id", "CHG-CONTENT-1")
    assert code == 0, err[-3000:]
    manifest = doc[0]["snapshot"]
    STATE["id"], STATE["manifest"] = manifest["id"], manifest
    assert set(manifest["releases"]) == {"debian11", "debian12", "debian13"}
    for host in HOSTS:
        needed = manifest["hosts"][host]["packages"]
        # fresh lab hosts are built from the main suites: they have pending security updates
        assert any(p["suite"].endswith("-security") for p in needed.values()), (host, needed)
        assert all(p["from"] for p in needed.values() if not p["suite"].startswith("new")), host
    # every package is on the point, with the manifest's sha256
    on_point = pexec(POINT, "sh", "-c", f"cd /srv/ccops-dist && sha256sum content/{STATE['id']}/debian/pool/*/*.deb")
    found = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in on_point.splitlines()}
    assert found == {rel: sha for rel, sha in manifest["files"].items() if rel.endswith(".deb")}

    listed = run_ccops(lab, "content", "list", check=True)
    assert STATE["id"] in listed.stdout and "not approved" in listed.stdout
    before = versions(PATCHED)
    refused = run_ccops(
        lab, "patch", "--snapshot", STATE["id"], "--limit", PATCHED, "--yes", "--change-id", "CHG-CONTENT-2"
    )
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert f"snapshot {STATE['id']} (site lab) is not approved" in refused.stderr
    assert versions(PATCHED) == before


def test_a_site_may_approve_by_age_and_the_plan_says_which_rule_approved(lab):
    site = ROOT / "inventory" / "lab" / "sites" / "lab.yml"
    written = site.read_text()
    assert "\nsite:\n" in written and "patch_content" not in written
    # approve_after_days 0: a staged snapshot counts as approved from the moment it was taken
    site.write_text(written.replace("\nsite:\n", "\nsite:\n  patch_content:\n    approve_after_days: 0\n", 1))
    try:
        code, plan, err = ccops_json(lab, "plan", "patch", "--limit", PATCHED)
        listed = run_ccops(lab, "content", "list", check=True).stdout
    finally:
        site.write_text(written)
    assert code == 0, err
    assert plan["content"]["refusals"] == []
    by_age = "by age under the site's approve_after_days (0)"
    assert plan["content"]["patch_content"][PATCHED]["approved"].startswith(by_age)
    assert f"approved: {by_age}" in listed
    # the rule gone from the site, the snapshot is unapproved again: the plan falls back to the archive
    # (no content), and naming the snapshot says why nothing would install from it
    code, plan, _ = ccops_json(lab, "plan", "patch", "--limit", PATCHED)
    assert code == 0 and "patch_content" not in plan.get("content", {}), plan.get("content")
    code, plan, _ = ccops_json(lab, "plan", "patch", "--limit", PATCHED, "--snapshot", STATE["id"])
    assert plan["content"]["patch_content"][PATCHED]["approved"] == "NOT APPROVED"


def test_plan_patch_lists_the_approved_versions_per_host(lab):
    approved = run_ccops(lab, "content", "approve", STATE["id"], "--change-id", "CHG-CONTENT-3", check=True)
    assert "approved under CHG-CONTENT-3" in approved.stdout
    code, plan, err = ccops_json(lab, "plan", "patch")
    assert code == 0, err
    content = plan["content"]
    assert content["refusals"] == []
    for host in HOSTS:
        entry = content["patch_content"][host]
        assert entry["snapshot"] == STATE["id"] and "CHG-CONTENT-3" in entry["approved"]
        expected = STATE["manifest"]["hosts"][host]["packages"]
        assert {p["package"]: p["to"] for p in entry["packages"]} == {n: e["to"] for n, e in expected.items()}
    STATE["plan"] = {p["package"]: p["to"] for p in content["patch_content"][PATCHED]["packages"]}
    markdown = run_ccops(lab, "plan", "patch", "--limit", PATCHED, "-o", "markdown", check=True).stdout
    name, version = next(iter(STATE["plan"].items()))
    assert f"| {PATCHED} | {STATE['id']} | {name} |" in markdown and f"| {version} |" in markdown


def test_patch_installs_exactly_the_approved_versions_from_the_point(lab):
    before = versions(PATCHED)
    result = run_ccops(lab, "patch", "--limit", PATCHED, "--yes", "--change-id", "CHG-CONTENT-4", timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    after = versions(PATCHED)
    changed = {name: version for name, version in after.items() if before.get(name) != version}
    assert changed == STATE["plan"]  # exactly the planned packages, at exactly the snapshot's versions
    assert not set(before) - set(after)
    source = pexec(PATCHED, "cat", "/etc/apt/ccops-content.sources")
    assert f"/content/{STATE['id']}/debian" in source and "Signed-By: /etc/apt/keyrings/ccops-content.gpg" in source
