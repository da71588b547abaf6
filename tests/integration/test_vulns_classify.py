"""Per host and CVE: what a snapshot's changelogs offer, judged against the installed version, plus the tracker."""

from datetime import UTC, datetime

import pytest

from ccops.vulns.classify import HostFacts, classify
from ccops.vulns.snapshot_logs import snapshot_logs
from tests.vulns_debs import build_deb, changelog, place_snapshot

NOW = datetime(2026, 12, 7, tzinfo=UTC)
OPENSSL = [
    ("3.0.15-1~deb12u2", "high", ["CVE-2024-9143"]),
    ("3.0.15-1~deb12u1", "medium", ["CVE-2024-5535", "CVE-2024-9143"]),  # first fix of 9143
    ("3.0.14-1~deb12u1", "low", ["CVE-2024-0727"]),  # installed already
]


@pytest.fixture
def snapshot(tmp_path):
    content = tmp_path / "content"
    built = tmp_path / "built"
    built.mkdir()
    debs = {
        "libssl3": build_deb(built, "libssl3", "3.0.15-1~deb12u2", changelog("openssl", OPENSSL), source="openssl"),
        "openssl": build_deb(built, "openssl", "3.0.15-1~deb12u2", None, source="openssl", doc_link="libssl3"),
        "curl": build_deb(built, "curl", "7.88.1-11", "curl 7.88.1-11 sid; urgency=high\n"),  # a damaged header
    }
    hosts = {
        "t1": {
            "libssl3": ("3.0.14-1~deb12u1", "3.0.15-1~deb12u2"),
            "openssl": ("3.0.14-1~deb12u1", "x"),
            "curl": ("7.88.1-10", "7.88.1-11"),
        },
    }
    manifest = place_snapshot(content, "njjy", "20261201T000000-aaaaaa", "2026-12-01T00:00:00+00:00", "bookworm",
                              debs, hosts)  # fmt: skip
    return content, manifest


def _rows(content, manifest, installed, tracker=None, release="bookworm"):
    facts = HostFacts("t1", "njjy", installed, release)
    rows = classify(facts, [(manifest, snapshot_logs(content, manifest))], tracker or {}, NOW)
    return {(r.cve, r.package): r for r in rows}


def test_fixable_names_the_first_fixing_version_its_urgency_and_age(snapshot):
    content, manifest = snapshot
    rows = _rows(content, manifest, {"libssl3": "3.0.14-1~deb12u1", "openssl": "3.0.14-1~deb12u1"})
    row = rows[("CVE-2024-9143", "libssl3")]
    assert (row.state, row.fixing, row.urgency, row.snapshot) == (
        "fixable", "3.0.15-1~deb12u1", "medium", "20261201T000000-aaaaaa")  # fmt: skip
    assert row.age_days == 6.0
    # the sibling without its own changelog reads its source's
    assert rows[("CVE-2024-5535", "openssl")].state == "fixable"
    # a CVE the installed version already fixed is not offered by this snapshot at all
    assert ("CVE-2024-0727", "libssl3") not in rows


def test_installed_at_the_fixing_version_is_fixed(snapshot):
    content, manifest = snapshot
    rows = _rows(content, manifest, {"libssl3": "3.0.15-1~deb12u1", "openssl": "3.0.15-1~deb12u2"})
    assert rows[("CVE-2024-9143", "libssl3")].state == "fixed"
    assert rows[("CVE-2024-9143", "libssl3")].age_days is None
    assert rows[("CVE-2024-9143", "openssl")].state == "fixed"


def test_a_damaged_changelog_is_one_damaged_row_for_the_package(snapshot):
    content, manifest = snapshot
    rows = _rows(content, manifest, {"curl": "7.88.1-10"})
    row = rows[("", "curl")]
    assert row.state == "damaged" and "changelog damaged" in row.detail


def test_a_hostile_installed_version_is_damaged_not_a_crash(snapshot):
    content, manifest = snapshot
    rows = _rows(content, manifest, {"libssl3": "\x1b]52;c;ZXZpbA==\x07", "openssl": "=cmd|'/c calc'!A1"})
    assert {rows[("CVE-2024-9143", p)].state for p in ("libssl3", "openssl")} == {"damaged"}


def test_a_package_file_changed_since_the_manifest_is_damaged(snapshot):
    content, manifest = snapshot
    rel = next(r for r in manifest["files"] if "libssl3" in r)
    (content / "points" / "njjy" / rel).write_bytes(b"replaced")
    rows = _rows(content, manifest, {"libssl3": "3.0.14-1~deb12u1"})
    assert rows[("", "libssl3")].detail == "package file differs from the snapshot's manifest"


def test_tracker_adds_no_fix_yet_and_not_affected_and_changelog_wins(snapshot):
    content, manifest = snapshot
    tracker = {
        "openssl": {
            "CVE-2024-9143": {"bookworm": ("resolved", "3.0.15-1~deb12u1", "low")},  # the changelog's row stands
            "CVE-2025-0001": {"bookworm": ("open", "", "high")},
            "CVE-2025-0002": {"bookworm": ("resolved", "0", "unimportant")},
            "CVE-2025-0003": {"trixie": ("open", "", "high")},  # another release
            "CVE-2023-0004": {"bookworm": ("resolved", "3.0.0-1", "high")},  # long fixed: not listed
        },
        "zlib": {"CVE-2025-0005": {"bookworm": ("resolved", "1:1.2.13.dfsg-2", "medium")}},
    }
    installed = {"libssl3": "3.0.14-1~deb12u1", "openssl": "3.0.14-1~deb12u1", "zlib": "1:1.2.13.dfsg-1"}
    rows = _rows(content, manifest, installed, tracker)
    assert rows[("CVE-2024-9143", "libssl3")].origin == "changelog"
    assert not [k for k in rows if k[0] == "CVE-2024-9143" and rows[k].origin == "tracker"]
    assert rows[("CVE-2025-0001", "libssl3")].state == "no_fix_yet"
    assert rows[("CVE-2025-0002", "libssl3")].state == "not_affected"
    assert not [k for k in rows if k[0] in ("CVE-2025-0003", "CVE-2023-0004")]
    zlib = rows[("CVE-2025-0005", "zlib")]
    assert (zlib.state, zlib.fixing, zlib.snapshot, zlib.age_days) == ("fixable", "1:1.2.13.dfsg-2", None, None)


def test_age_counts_from_the_first_snapshot_that_offered_the_fix(snapshot, tmp_path):
    content, first = snapshot
    later = dict(first, id="20261205T000000-bbbbbb", created="2026-12-05T00:00:00+00:00")
    facts = HostFacts("t1", "njjy", {"libssl3": "3.0.14-1~deb12u1"}, "bookworm")
    logs = snapshot_logs(content, first)
    rows = classify(facts, [(first, logs), (later, logs)], {}, NOW)
    row = next(r for r in rows if r.cve == "CVE-2024-9143" and r.package == "libssl3")
    assert (row.age_days, row.snapshot) == (6.0, "20261205T000000-bbbbbb")


def test_parsed_changelogs_are_kept_so_a_second_read_opens_no_package(snapshot, monkeypatch):
    content, manifest = snapshot
    snapshot_logs(content, manifest)

    def no_read(path):
        raise AssertionError(f"read {path} again")

    monkeypatch.setattr("ccops.vulns.snapshot_logs.read_deb", no_read)
    logs = snapshot_logs(content, manifest)
    assert logs.log_of("libssl3")[0]


def test_tracker_matches_a_source_through_the_hosts_binary_to_source_names():
    tracker = {"zlib": {"CVE-2023-45853": {"bookworm": ("open", "", "unimportant")}}}
    facts = HostFacts("t1", "njjy", {"zlib1g": "1:1.2.13.dfsg-1"}, "bookworm")
    assert classify(facts, [], tracker, NOW) == []  # no name ties zlib1g to zlib
    facts.sources = {"zlib1g": "zlib"}
    rows = classify(facts, [], tracker, NOW)
    assert [(r.cve, r.package, r.state) for r in rows] == [("CVE-2023-45853", "zlib1g", "no_fix_yet")]


def test_a_package_removed_since_is_not_listed_as_fixed(snapshot):
    content, manifest = snapshot
    rows = _rows(content, manifest, {"openssl": "3.0.14-1~deb12u1"})  # libssl3 gone
    assert not [k for k in rows if k[1] == "libssl3"]
    assert rows[("CVE-2024-9143", "openssl")].state == "fixable"
