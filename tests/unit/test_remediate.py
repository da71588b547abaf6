"""ccops remediate's decisions: what it fixes, from which packages, who approves, and when a CVE counts as fixed."""

import hashlib
from datetime import UTC, datetime

import pytest

from ccops.errors import CcopsError
from ccops.remediate.approval import rule_approval
from ccops.remediate.subset import choose_subset, subset_manifest
from ccops.remediate.targets import Target, at_least, choose
from ccops.remediate.verdict import FIXED, NOT_TOUCHED, STILL_VULNERABLE, judge
from ccops.vulns.classify import Row
from ccops.vulns.snapshot_logs import PackageLog, SnapshotLogs

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
PARENT = "20261201T000000-abcdef"


def _row(host, cve, package="openssl", state="fixable", urgency="high", installed="3.0.11-1~deb12u1",
         fixing="3.0.11-1~deb12u2", snapshot=PARENT, first_seen="2026-12-01T00:00:00+00:00"):  # fmt: skip
    return Row(host, "s1", cve, state, urgency, package, installed, fixing, snapshot, first_seen, 6.5, "changelog")


def _target(host="t1", cve="CVE-2026-0001", package="openssl", urgency="high", first_seen="2026-12-01T00:00:00+00:00"):
    return Target(host, "s1", cve, urgency, package, "3.0.11-1~deb12u1", "3.0.11-1~deb12u2", PARENT, first_seen)


def test_only_the_chosen_fixable_cves_are_targets_and_a_fix_in_no_snapshot_is_set_apart():
    rows = [
        _row("t1", "CVE-2026-0001"),
        _row("t2", "CVE-2026-0001", state="fixed"),
        _row("t1", "CVE-2026-0002"),
        _row("t3", "CVE-2026-0001", snapshot=None),  # the tracker knows the fix; no snapshot holds it
    ]
    targets, unheld = choose(rows, ("CVE-2026-0001",), ())
    assert [(t.host, t.cve) for t in targets] == [("t1", "CVE-2026-0001")]
    assert [r.host for r in unheld] == ["t3"]


def test_urgency_high_takes_the_more_urgent_levels_too():
    rows = [_row("t1", "CVE-2026-0001", urgency="critical"), _row("t1", "CVE-2026-0002", urgency="medium"),
            _row("t1", "CVE-2026-0003", urgency="high")]  # fmt: skip
    targets, _ = choose(rows, (), at_least("high"))
    assert sorted(t.cve for t in targets) == ["CVE-2026-0001", "CVE-2026-0003"]


def test_fixed_only_when_the_new_inspection_shows_at_least_the_fixing_version_in_dpkg_order():
    targets = [_target("t1"), _target("t2"), _target("t3"), _target("t4"), _target("t5")]
    inspected = {
        "t1": {"openssl": "3.0.11-1~deb12u2"},  # exactly the fixing version
        "t2": {"openssl": "3.0.11-1~deb12u2~rc1"},  # "~" sorts before: lower than the fix
        "t3": {},  # removed: nothing proves a fix
        "t5": {"openssl": "1:1.0"},  # an epoch wins over any version without one
    }
    patched = {"t1": "changed", "t2": "failed", "t3": "changed", "t4": "changed", "t5": "changed"}
    states = {o.host: (o.state, o.after) for o in judge(targets, inspected, patched, {})}
    assert states == {
        "t1": (FIXED, "3.0.11-1~deb12u2"),
        "t2": (STILL_VULNERABLE, "3.0.11-1~deb12u2~rc1"),
        "t3": (STILL_VULNERABLE, None),
        "t4": (STILL_VULNERABLE, None),  # in the run, never re-inspected
        "t5": (FIXED, "1:1.0"),
    }


def test_a_host_ccops_did_not_patch_is_not_touched_even_when_it_looks_fixed():
    out = judge([_target("t1"), _target("t2")], {"t1": {"openssl": "9"}}, {}, {"t2": "not approved"})
    assert [(o.host, o.state, o.detail) for o in out] == [
        ("t1", NOT_TOUCHED, "not in the patch run"),
        ("t2", NOT_TOUCHED, "not approved"),
    ]


def test_the_site_rule_approves_only_after_its_days_and_only_urgencies_it_names():
    rule = {"auto_approve": {"high": 2}}
    assert rule_approval(rule, [_target(first_seen="2026-12-05T12:00:00+00:00")], NOW) == (
        "site rule remediate.auto_approve high=2d"
    )
    assert rule_approval(rule, [_target(first_seen="2026-12-06T00:00:00+00:00")], NOW) is None  # 1.5 days
    assert rule_approval(rule, [_target(), _target(urgency="medium")], NOW) is None  # medium: no rule
    assert rule_approval({}, [_target()], NOW) is None
    assert rule_approval(rule, [_target(first_seen=None)], NOW) is None


def _parent(tree, packages):
    files, pkgs, logs = {}, {}, SnapshotLogs()
    for name, source, version in packages:
        rel = f"content/{PARENT}/debian/pool/bookworm/{name}_{version}_amd64.deb"
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(f"{name} {version}".encode())
        files[rel] = hashlib.sha256(f"{name} {version}".encode()).hexdigest()
        pkgs[name] = version
        logs.packages[name] = PackageLog(name, version, source, [])
        logs.paths[name] = rel
    files[f"content/{PARENT}/debian/dists/bookworm/main/binary-amd64/Packages"] = "0" * 64
    hosts = {"t1": {"release": "bookworm", "packages": {n: {"from": "1", "to": v} for n, _, v in packages}}}
    return {"id": PARENT, "site": "s1", "releases": {"bookworm": {"packages": pkgs}}, "files": files,
            "hosts": hosts}, logs  # fmt: skip


def test_the_subset_holds_every_binary_of_the_fixing_source_and_nothing_else(tmp_path):
    parent, logs = _parent(tmp_path, [("openssl", "openssl", "3.0.11-1~deb12u2"), ("libssl3", "openssl",
                                       "3.0.11-1~deb12u2"), ("tzdata", "tzdata", "2026a-0+deb12u1")])  # fmt: skip
    subset = choose_subset(parent, logs, [_target()], tmp_path)
    assert subset.packages == {"bookworm": {"libssl3": "3.0.11-1~deb12u2", "openssl": "3.0.11-1~deb12u2"}}
    assert subset.arches == {"bookworm": "amd64"}
    manifest = subset_manifest(parent, subset, "20261207T000000-123456", [], [_target()], "CHG-1", "op")
    assert sorted(manifest["hosts"]["t1"]["packages"]) == ["libssl3", "openssl"]
    assert manifest["remediate"] == {"parent": PARENT, "cves": ["CVE-2026-0001"]}
    assert manifest["approval"] is None and manifest["staged"] is False


def test_a_parent_file_that_changed_since_its_snapshot_is_refused(tmp_path):
    parent, logs = _parent(tmp_path, [("openssl", "openssl", "3.0.11-1~deb12u2")])
    (tmp_path / logs.paths["openssl"]).write_bytes(b"something else")
    with pytest.raises(CcopsError, match="differs from snapshot"):
        choose_subset(parent, logs, [_target()], tmp_path)


def test_a_remediation_snapshot_never_becomes_the_sites_default_patch_content(tmp_path, monkeypatch):
    from ccops.content.patching import newest_approved
    from ccops.content.snapshots import save
    from ccops.inventory.load import load_inventory
    from tests.conftest import EXAMPLE

    monkeypatch.setenv("CCOPS_HOME", str(tmp_path))
    inventory = load_inventory(EXAMPLE)
    approved = {"change_id": "CHG-1", "by": "op", "at": "2026-12-01T00:00:00+00:00"}
    whole = {"id": PARENT, "site": "njjy", "created": "2026-12-01T00:00:00+00:00", "staged": True,
             "approval": approved, "releases": {}}  # fmt: skip
    fix = whole | {"id": "20261202T000000-123456", "created": "2026-12-02T00:00:00+00:00",
                   "remediate": {"parent": PARENT, "cves": ["CVE-2026-0001"]}}  # fmt: skip
    save(inventory, whole)
    save(inventory, fix)
    assert newest_approved(inventory, "njjy")["id"] == PARENT
