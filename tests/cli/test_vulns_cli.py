"""ccops vulns: one row per host and CVE from a snapshot's real .deb changelogs, in text, JSON and CSV."""

import csv
import io
import json

import pytest

from ccops.content.snapshots import content_dir, save
from ccops.inventory.load import load_inventory
from ccops.store.records import Store
from tests.conftest import EXAMPLE, online_example
from tests.json_output import payload
from tests.vulns_debs import build_deb, changelog, place_snapshot

RUN = "20261206T000000Z-aaaaaa"
HOST, OTHER = "njjy-al2-t0001", "njjy-al2-t0002"
OPENSSL = [
    ("3.0.15-1~deb13u1", "high", ["CVE-2024-9143"]),
    ("3.0.14-1~deb13u2", "low", ["CVE-2024-5535"]),
]


def _record(packages):
    return {
        "os": {"distribution": "Debian", "version": "13", "variant": "debian13", "codename": "trixie"},
        "packages": {"count": len(packages), "items": packages},
    }


@pytest.fixture
def site(ccops, tmp_path, monkeypatch):
    """The example's njjy site: two inspected hosts and a staged snapshot offering openssl's fixes."""
    monkeypatch.setenv("CCOPS_HOME", str(ccops.home))
    store = Store(ccops.home / "ccops.db")
    store.start_run(RUN, "inspect", operator="test", change_id=None, git_commit=None, inventory=str(EXAMPLE),
                    inventory_sha256="0" * 64, selectors={}, request={}, plan=[])  # fmt: skip
    store.save_assets(
        RUN,
        {
            HOST: _record({"libssl3": "3.0.14-1~deb13u1", "curl": "8.14.1-2"}),
            OTHER: _record({"libssl3": "=1+2\x1b]52;c;ZXZpbA==\x07"}),  # a hostile host's answer
        },
    )
    built = tmp_path / "built"
    built.mkdir()
    text = changelog("openssl", OPENSSL).replace("  * Fix CVE-2024-9143", "  * <!-- | =cmd \x1b[2J Fix CVE-2024-9143")
    debs = {"libssl3": build_deb(built, "libssl3", "3.0.15-1~deb13u1", text, source="openssl")}
    change = ("3.0.14-1~deb13u1", "3.0.15-1~deb13u1")
    manifest = place_snapshot(content_dir(load_inventory(EXAMPLE)), "njjy", "20261201T000000-aaaaaa",
                              "2026-12-01T00:00:00+00:00", "trixie", debs,
                              {HOST: {"libssl3": change}, OTHER: {"libssl3": change}})  # fmt: skip
    save(load_inventory(EXAMPLE), manifest)
    return ccops


def _ok(ccops, *args):
    result = ccops("vulns", "-i", str(EXAMPLE), *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_text_lists_each_host_and_cve_with_its_fixing_version(site):
    out = _ok(site, "--limit", HOST)
    lines = out.splitlines()
    assert lines[0].split()[:8] == ["HOST", "CVE", "URGENCY", "STATE", "PACKAGE", "INSTALLED", "FIXING", "AGE"]
    assert lines[1].split()[:7] == [HOST, "CVE-2024-9143", "high", "fixable", "libssl3", "3.0.14-1~deb13u1",
                                    "3.0.15-1~deb13u1"]  # fmt: skip
    assert lines[2].split()[:7] == [HOST, "CVE-2024-5535", "low", "fixable", "libssl3", "3.0.14-1~deb13u1",
                                    "3.0.14-1~deb13u2"]  # fmt: skip
    assert lines[-1] == "2 fixable"


def test_filters_by_cve_urgency_and_state(site):
    assert "CVE-2024-5535" not in _ok(site, "--limit", HOST, "--cve", "cve-2024-9143")
    assert "CVE-2024-9143" not in _ok(site, "--limit", HOST, "--urgency", "low")
    assert "no vulnerability found" in _ok(site, "--limit", HOST, "--state", "fixed")


def test_json_rows_and_a_hostile_host_reads_as_damaged(site):
    data = payload(_ok(site, "-o", "json"))
    rows = {(r["host"], r["cve"]): r for r in data["rows"]}
    mine = rows[(HOST, "CVE-2024-9143")]
    assert (mine["state"], mine["fixing"], mine["snapshot"], mine["origin"]) == (
        "fixable", "3.0.15-1~deb13u1", "20261201T000000-aaaaaa", "changelog")  # fmt: skip
    assert mine["age_days"] > 5
    assert rows[(OTHER, "CVE-2024-9143")]["state"] == "damaged"
    assert data["counts"] == {"fixable": 2, "damaged": 2}


def test_text_and_csv_never_obey_what_a_host_or_changelog_holds(site):
    text = _ok(site)
    assert "\x1b" not in text and "\x07" not in text
    assert "=1+2\\x1b]52;c;ZXZpbA==\\x07" in text
    rows = list(csv.DictReader(io.StringIO(_ok(site, "-o", "csv"))))
    other = next(r for r in rows if r["host"] == OTHER)
    assert other["installed"] == "'=1+2\\x1b]52;c;ZXZpbA==\\x07"  # text, never a formula
    assert not [c for r in rows for c in r.values() if c and c[0] in "=+-@"]


TRACKER = {
    "curl": {"CVE-2023-45853": {"releases": {"trixie": {"status": "open", "urgency": "unimportant"}}}},
    "openssl": {"CVE-2024-9143": {"releases": {"trixie": {"status": "resolved", "fixed_version": "3.0.15-1~deb13u1"}}}},
}


def _place_import(tmp_path, data=TRACKER, root=EXAMPLE):
    """A signed import made current for njjy as ccops vulns import leaves it once its stage runs succeeded
    (those runs are driven by the scripted engine in tests/integration/test_vulns_tracker_import.py)."""
    from datetime import UTC, datetime

    from ccops.software.points import ensure_key
    from ccops.vulns import tracker

    export = tmp_path / "tracker.json"
    export.write_text(json.dumps(data))
    inventory = load_inventory(root)
    content = content_dir(inventory)
    manifest, _ = tracker.build_import(
        content / "points" / "njjy",
        "njjy",
        export,
        tracker.parse_export(export),
        "CHG-1",
        "alice",
        ensure_key(inventory),
        datetime.now(UTC),
    )
    tracker.make_current(content, "njjy", manifest["id"], ["20261206T000001Z-bbbbbb", "20261206T000002Z-cccccc"])
    return content / "points" / "njjy" / tracker.point_prefix(manifest["id"])


def _no_fix_yet(site, root=EXAMPLE):
    result = site("vulns", "-i", str(root), "--limit", HOST, "-o", "json", "--state", "no_fix_yet")
    assert result.returncode == 0, result.stderr
    return [(r["cve"], r["package"], r["origin"]) for r in payload(result.stdout)["rows"]], result.stderr


def test_a_signed_import_adds_no_fix_yet_from_the_tracker(site, tmp_path):
    _place_import(tmp_path)
    rows, stderr = _no_fix_yet(site)
    assert rows == [("CVE-2023-45853", "curl", "tracker")] and stderr == ""


def test_a_tampered_import_is_named_in_one_line_and_left_out(site, tmp_path):
    folder = _place_import(tmp_path)
    (folder / "tracker.json").write_text(json.dumps({"curl": {}}))
    rows, stderr = _no_fix_yet(site)
    assert rows == []
    assert stderr.count("\n") == 1 and str(folder / "tracker.json") in stderr and "sha256 differs" in stderr
    assert "Traceback" not in stderr


def test_a_reimport_that_does_not_parse_keeps_the_old_one(site, tmp_path):
    online = online_example(tmp_path / "inventory")  # an import stages: an offline inventory is refused first
    _place_import(tmp_path, root=online)
    bad = tmp_path / "newer.json"
    bad.write_text('{"curl": ')
    result = site("vulns", "import", str(bad), "-i", str(online), "--change-id", "CHG-2")
    assert result.returncode == 1 and "newer.json:1: not JSON" in result.stderr
    assert _no_fix_yet(site, online)[0] == [("CVE-2023-45853", "curl", "tracker")]


def test_dry_run_shows_what_it_would_keep_and_builds_nothing(site, tmp_path):
    export = tmp_path / "tracker.json"
    export.write_text(json.dumps(TRACKER))
    result = site("vulns", "import", str(export), "-i", str(EXAMPLE), "--site", "njjy", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would keep 2 CVE entries of 2 source packages" in result.stdout
    assert "njjy: signed and staged on njjy-dp01 under /srv/ccops/dist/content/tracker-<id>/" in result.stdout
    assert not (content_dir(load_inventory(EXAMPLE)) / "vulns").exists()


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (("vulns", "--cve", "CVE-24-1"), 64, "not a CVE id"),
        (("vulns", "import", "EXPORT", "--dry-run"), 1, "not JSON"),
        (("vulns", "import", "EXPORT", "--site", "nowhere"), 64, "no such site"),
        (("vulns", "import", "EXPORT"), 64, "needs --change-id"),
        (("vulns", "import", "GOOD", "--change-id", "CHG-1"), 5, "marked offline"),
    ],
)
def test_bad_input_is_one_line_and_a_code(site, tmp_path, args, code, text):
    export = tmp_path / "export.json"
    export.write_text("{\n  'single quotes'")
    (tmp_path / "good.json").write_text(json.dumps(TRACKER))
    files = {"EXPORT": str(export), "GOOD": str(tmp_path / "good.json")}
    root = EXAMPLE if "GOOD" in args else online_example(tmp_path / "inventory")  # GOOD: the offline refusal
    result = site(*[files.get(a, a) for a in args], "-i", str(root))
    assert result.returncode == code, result.stderr
    assert text in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_vuln_fixable_risk_past_the_sites_limit_for_its_urgency(site):
    from datetime import UTC, datetime

    from ccops.vulns.risks import vuln_risks

    store = Store(site.home / "ccops.db")
    found = vuln_risks(load_inventory(EXAMPLE), store, {"njjy"}, now=datetime(2026, 12, 7, tzinfo=UTC))
    # high: 6 days against 2; low: 6 against 30; the hostile host's rows are damaged, not fixable
    assert [(r["host"], r["cve"], r["kind"], r["days"]) for r in found] == [
        (HOST, "CVE-2024-9143", "vuln_fixable", 6.0)
    ]
    assert "the site allows 2" in found[0]["detail"]
    assert vuln_risks(load_inventory(EXAMPLE), store, {"shaxh"}) == []


def test_never_inspected_hosts_are_named_not_hidden(site):
    out = _ok(site, "--limit", "njjy-al2-t000*")
    assert "Debian host(s) never inspected" in out and "njjy-al2-t0003" in out
