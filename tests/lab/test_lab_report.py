"""End to end on the lab: a package installed by hand and a disk filled show in ccops host diff,
and the report renders in headless Chromium with the lab's numbers. The host is left as found."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ccops.report.asset_diff import DISK_NOISE_MB, DISK_NOISE_SHARE
from tests import chromium
from tests.cli.test_report_render import Marked, lookup, shown
from tests.conftest import run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec

pytestmark = pytest.mark.lab
HOST = "lab-deb12-01"
PACKAGE = "ccops-lab-handmade"
FILL = "/var/tmp/ccops-lab-fill"


def build_deb(folder: Path) -> Path:
    """A package with one file, made here: installing it by hand needs no archive."""
    root = folder / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "usr/share/doc" / PACKAGE).mkdir(parents=True)
    (root / "usr/share/doc" / PACKAGE / "README").write_text("installed by hand by the ccops lab test\n")
    (root / "DEBIAN/control").write_text(
        f"Package: {PACKAGE}\nVersion: 1.0-1\nArchitecture: all\nMaintainer: ccops tests <ccops@localhost>\n"
        "Description: a package the ccops lab test installs by hand\n"
    )
    deb = folder / f"{PACKAGE}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)], check=True, capture_output=True)
    return deb


def var_disk() -> tuple[str, int]:
    """The mount /var is on inside the host, and its size in MB (as the inspection's df reports it)."""
    line = pexec(HOST, "df", "-P", "-k", "/var").splitlines()[1].split()
    return line[5], int(line[1]) // 1024


def inspect(home: Path) -> None:
    result = run_ccops(home, "inspect", "--limit", HOST, "--change-id", "CHG-REPORT", "--output", "json")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.fixture
def fresh_host(lab_home):
    """HOST as lab up makes it: earlier modules may have patched it (its security updates gone)."""
    subprocess.run(["podman", "rm", "-f", "-t", "0", f"ccops-lab-{HOST}"], capture_output=True, check=False)
    run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True, timeout=1800)
    return lab_home


def test_host_diff_shows_a_hand_installed_package_and_a_filling_disk_then_the_report_renders(fresh_host, tmp_path):
    lab_home = fresh_host
    deb = build_deb(tmp_path)
    mount, size_mb = var_disk()
    fill_mb = int(max(DISK_NOISE_MB, size_mb * DISK_NOISE_SHARE)) + 1024  # beyond what the diff calls noise
    inspect(lab_home)
    try:
        subprocess.run(["podman", "cp", str(deb), f"ccops-lab-{HOST}:/tmp/{deb.name}"], check=True)
        pexec(HOST, "dpkg", "-i", f"/tmp/{deb.name}")
        pexec(HOST, "fallocate", "-l", f"{fill_mb}M", FILL)
        inspect(lab_home)
    finally:
        pexec(HOST, "rm", "-f", FILL, f"/tmp/{deb.name}", check=False)
        pexec(HOST, "dpkg", "--purge", PACKAGE, check=False)

    diff = payload(run_ccops(lab_home, "host", "diff", HOST, "-o", "json", check=True).stdout)
    assert diff["packages"]["added"] == [{"name": PACKAGE, "version": "1.0-1"}]
    disk = next(d for d in diff["disks"] if d["mount"] == mount)
    assert disk["change"] == "filling" and disk["free_mb"][0] - disk["free_mb"][1] >= fill_mb - DISK_NOISE_MB
    text = run_ccops(lab_home, "host", "diff", HOST, check=True).stdout
    assert f"+ {PACKAGE} 1.0-1" in text and f"{mount} filling: free" in text
    assert PACKAGE not in pexec(HOST, "dpkg-query", "-W", "-f", "${Package}\n", check=False)
    assert "No such file" in pexec(HOST, "ls", FILL, check=False) + pexec(
        HOST, "sh", "-c", f"ls {FILL} 2>&1", check=False
    )

    page = tmp_path / "report.html"
    run_ccops(lab_home, "report", "--to", str(page), check=True)
    report = payload(run_ccops(lab_home, "report", "--format", "json", check=True).stdout)
    row = next(h for h in report["hosts"] if h["host"] == HOST)
    assert row["last_inspected"] and row["security_updates"] > 0  # lab images carry pending security updates
    if chromium.binary() is None:
        pytest.fail("chromium is not installed: run scripts/setup")
    dom = Marked()
    dom.feed(chromium.dump_dom(page, tmp_path))
    assert len(dom.values) > 30
    assert [(k, t) for k, t in dom.values if t != shown(lookup(report, k))] == []
    index = report["hosts"].index(row)
    assert (f"hosts/{index}/security_updates", str(row["security_updates"])) in dom.values
    _, _, rows = chromium.decode_png(chromium.screenshot(page, tmp_path))
    assert chromium.white_share(rows) < 0.97
