"""Approved patch content: which packages and versions a snapshot takes, approval, and the patch hook's refusals."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest

from ccops.content.patching import patch_content
from ccops.content.selection import host_needs, parse_simulation, release_packages
from ccops.content.snapshot import verify_download
from ccops.content.snapshots import all_snapshots, approval, approve, new_snapshot_id, save
from ccops.errors import CcopsError, UsageError
from ccops.inventory.load import load_inventory
from tests.conftest import EXAMPLE

SIMULATION = [
    "NOTE: This is only a simulation!",
    "Inst libssl3 [3.0.11-1~deb12u1] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])"
    " [libssl3:amd64 on libssl-dev:amd64] [libssl-dev:amd64 ]",
    "Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable, Debian:12-updates/stable-updates [all])",
    "Inst linux-image-6.1.0-28-amd64 (6.1.119-1 Debian-Security:12/stable-security [amd64])",
    "Inst base-files [12.4+deb12u5] (12.4+deb12u11 Debian:12.11/stable [amd64])",
    "Conf libssl3 (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])",
]


def test_upgrades_from_security_and_updates_and_the_new_packages_they_need_are_taken():
    needs = host_needs(parse_simulation(SIMULATION))
    assert {n: (u.installed, u.version, u.suite) for n, u in needs.selected.items()} == {
        "libssl3": ("3.0.11-1~deb12u1", "3.0.15-1~deb12u1", "stable-security"),
        "tzdata": ("2024a-0+deb12u1", "2025b-0+deb12u1", "stable-updates"),
        "linux-image-6.1.0-28-amd64": ("", "6.1.119-1", "stable-security"),  # new: needed by an update
    }
    # a point-release upgrade from the main suite is not security or updates content: named, left out
    assert list(needs.left_out) == ["base-files"]


@pytest.mark.parametrize(
    "line",
    [
        "Inst -oAPT::Get::Whatever=1 [1.0] (2.0 Debian-Security:12/stable-security [amd64])",
        "Inst foo;touch [1.0] (2.0 Debian-Security:12/stable-security [amd64])",
        "Inst foo [1.0] ($(touch) Debian-Security:12/stable-security [amd64])",
        "Inst foo [1.0]",
    ],
)
def test_a_host_report_that_is_not_debian_names_and_versions_is_refused(line):
    with pytest.raises(CcopsError):
        parse_simulation([line])


def test_a_release_takes_the_newest_version_any_of_its_hosts_was_offered():
    old = host_needs(parse_simulation(["Inst curl [7.88.1-10] (7.88.1-10+deb12u5 Debian-Security:12/s-security [x])"]))
    new = host_needs(parse_simulation(["Inst curl [7.88.1-10] (7.88.1-10+deb12u12 Debian-Security:12/s-security [x])"]))
    assert release_packages({"a": old, "b": new}) == {"curl": "7.88.1-10+deb12u12"}
    assert release_packages({"b": new, "a": old}) == {"curl": "7.88.1-10+deb12u12"}


def test_a_fetched_file_must_carry_the_signed_index_sha256(tmp_path):
    (tmp_path / "curl.deb").write_bytes(b"not what the index says")
    index = "Package: curl\nVersion: 1.0\nFilename: pool/main/c/curl/curl_1.0_amd64.deb\nSHA256: " + "0" * 64 + "\n"
    with pytest.raises(CcopsError, match="no fetched file has the index's sha256"):
        verify_download({"curl": "1.0"}, index, tmp_path)
    with pytest.raises(CcopsError, match="not in the release's index"):
        verify_download({"curl": "2.0"}, index, tmp_path)


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    root = tmp_path / "inv"
    shutil.copytree(EXAMPLE, root)
    site = root / "sites" / "njjy.yml"
    site.write_text(
        site.read_text().replace(
            "distribution_point: {host: njjy-dp01, path: /srv/ccops/dist}",
            "distribution_point: {host: njjy-dp01, path: /srv/ccops/dist, url: 'http://10.0.0.1:8080'}\n"
            "  patch_content: {approve_after_days: 7}",
        )
    )
    return load_inventory(root)


def manifest(inventory, site="njjy", days_old=0, staged=True):
    host = next(h for h in inventory.hosts.values() if h.site == site and h.os == "debian12")
    doc = {
        "id": new_snapshot_id(),
        "site": site,
        "created": (datetime.now(UTC) - timedelta(days=days_old)).isoformat(timespec="seconds"),
        "created_by": "tester",
        "change_id": None,
        "releases": {"debian12": {"packages": {"libssl3": "3.0.15-1~deb12u1"}, "files": {}, "left_out": {}}},
        "hosts": {host.name: {"release": "debian12", "packages": {
            "libssl3": {"from": "3.0.11-1~deb12u1", "to": "3.0.15-1~deb12u1", "suite": "stable-security"}}}},
        "files": {},
        "staged": staged,
        "approval": None,
    }  # fmt: skip
    save(inventory, doc)
    return doc, host


def test_an_unapproved_snapshot_is_refused_and_an_approved_one_plans_exact_versions(inventory):
    doc, host = manifest(inventory)
    extravars, content = patch_content(inventory, [host], {"content_snapshot": doc["id"]})
    assert any("is not approved" in r for r in content["refusals"])
    assert content["patch_content"][host.name]["approved"] == "NOT APPROVED"
    assert patch_content(inventory, [host], {}) == ({}, {})  # nothing approved: the site's archive, as before

    approve(inventory, doc["id"], "CHG-9", "tester")
    assert all_snapshots(inventory)[0]["approval"]["change_id"] == "CHG-9"
    extravars, content = patch_content(inventory, [host], {})  # the newest approved, without naming it
    assert content["refusals"] == []
    assert extravars["patch_content"] == {"njjy": {"id": doc["id"], "path": f"content/{doc['id']}/debian"}}
    assert content["patch_content"][host.name]["packages"] == [
        {"package": "libssl3", "from": "3.0.11-1~deb12u1", "to": "3.0.15-1~deb12u1"}
    ]
    with pytest.raises(CcopsError, match="already approved"):
        approve(inventory, doc["id"], "CHG-10", "tester")


def test_refusals_other_site_missing_release_unstaged_unknown(inventory):
    doc, host = manifest(inventory)
    approve(inventory, doc["id"], "CHG-9", "tester")
    other = next(h for h in inventory.hosts.values() if h.site != "njjy" and h.os_family == "debian")
    _, content = patch_content(inventory, [host, other], {"content_snapshot": doc["id"]})
    assert any(f"is site njjy's; hosts of site {other.site}" in r for r in content["refusals"])
    trixie = next(h for h in inventory.hosts.values() if h.site == "njjy" and h.os == "debian13")
    _, content = patch_content(inventory, [trixie], {"content_snapshot": doc["id"]})
    assert any("holds nothing for debian13" in r for r in content["refusals"])
    unstaged, _ = manifest(inventory, staged=False)
    with pytest.raises(CcopsError, match="never staged"):
        approve(inventory, unstaged["id"], "CHG-11", "tester")
    with pytest.raises(UsageError, match="no snapshot"):
        patch_content(inventory, [host], {"content_snapshot": "20260101T000000-abcdef"})
    with pytest.raises(UsageError, match="not a snapshot id"):
        patch_content(inventory, [host], {"content_snapshot": "../../etc"})


def test_the_sites_approve_after_days_rule_approves_by_age(inventory):
    young, _ = manifest(inventory, days_old=2)
    old, host = manifest(inventory, days_old=8)
    assert approval(young, 7).how == "" and approval(old, 7).how == "age"
    assert approval(old, None).how == ""
    extravars, content = patch_content(inventory, [host], {})
    assert extravars["patch_content"]["njjy"]["id"] == old["id"] and content["refusals"] == []


def test_only_plain_deb_files_are_taken_from_a_hosts_archive(tmp_path):
    import io
    import tarfile

    from ccops.content.snapshot import unpack_debs

    archive = tmp_path / "debian12.tar"
    with tarfile.open(archive, "w") as tar:
        for name, data in (("./curl_1.0_amd64.deb", b"deb"), ("../evil.deb", b"x"), ("./notes.txt", b"y")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("./link.deb")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(link)
    unpack_debs(archive, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["curl_1.0_amd64.deb"]
    assert not (tmp_path / "evil.deb").exists()
    (tmp_path / "broken.tar").write_bytes(b"not a tar")
    with pytest.raises(CcopsError, match="did not arrive readable"):
        unpack_debs(tmp_path / "broken.tar", tmp_path / "out2")
