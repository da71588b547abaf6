"""Reverted patches: Debian version order, and what the records say a host should still have."""

from __future__ import annotations

from typing import Any

import pytest

from ccops.hostdata.reports import read_asset, read_report
from ccops.report.reverted import DAMAGED, REVERTED, BadVersion, check_host, compare
from ccops.store.records import RunRecord

HOST = "tst-t01"
VERSIONS = [
    "1.0", "1.0-1", "1.0-2", "1.0~rc1", "1.0~rc1-1", "1.0+b1", "1.0.1", "1.00", "1:0.9", "2:1.0", "1.0a", "1.0A",
    "1.0-1ubuntu1", "1.0-1~deb12u1", "1.0-1+deb12u1", "1.10", "1.9", "0.0", "3.0.2-0ubuntu1.15", "3.0.2-0ubuntu1.9",
    "1.2.3~~", "1.2.3~", "1.2.3", "7.88.1-10+deb12u5", "7.88.1-10+deb12u12", "0:1.0", "1.0-", "a1.0",
]  # fmt: skip


@pytest.mark.parametrize("bad", ["", "1.0 ", "1.0;rm", "x:1.0", ":1.0", "-1", "1.0\n"])
def test_not_a_version_is_refused(bad: str) -> None:
    with pytest.raises(BadVersion):
        compare(bad, "1.0")


def run(run_id: str, verb: str, started: str, report: dict[str, Any] | None, **host: Any) -> RunRecord:
    entry = {"host": HOST, "outcome": "ok", "changed": True, **host}
    entry["report"] = read_report(report, verb) if report is not None else None
    return RunRecord(
        id=run_id, verb=verb, operator="op", change_id="CHG-1", git_commit=None, inventory="i", inventory_sha256="0",
        selectors={}, started=started, ended=started, status="succeeded", exit_code=0, message=None, request={},
        plan={}, pid=None, hosts=[entry],
    )  # fmt: skip


PATCH = {
    "outcome": "patched",
    "reason": "",
    "versions_before": {"openssl": "3.0.11-1~deb12u1", "curl": "7.88.1-10+deb12u4"},
    "versions_after": {"openssl": "3.0.15-1~deb12u1", "curl": "7.88.1-10+deb12u8"},
    "packages_changed": {
        "changed": {
            "openssl": "3.0.11-1~deb12u1 -> 3.0.15-1~deb12u1",
            "curl": "7.88.1-10+deb12u4 -> 7.88.1-10+deb12u8",
        },
        "added": {"libnew1": "1.2-1"},
        "removed": {},
    },
}
PATCHED = {"openssl": "3.0.15-1~deb12u1", "curl": "7.88.1-10+deb12u8", "libnew1": "1.2-1", "bash": "5.2.15-2+b2"}


def asset(items: Any, collected: str = "2026-03-03T08:00:00+00:00", uptime: Any = 3600) -> dict[str, Any]:
    record = {"outcome": "inspected", "uptime_seconds": uptime, "packages": {"count": 4, "items": items}}
    return {"host": HOST, "run_id": "20260303T080000Z-insp01", "collected": collected, "record": read_asset(record)}


def test_patched_versions_kept_is_no_finding() -> None:
    runs = [run("20260301T100000Z-patch1", "patch", "2026-03-01T10:00:00+00:00", PATCH)]
    assert check_host(HOST, asset(PATCHED), runs) is None


def test_downgrade_after_a_patch_is_reverted_naming_run_packages_and_boot() -> None:
    runs = [
        run("20260301T100000Z-patch1", "patch", "2026-03-01T10:00:00+00:00", PATCH),
        run("20260302T100000Z-insp00", "inspect", "2026-03-02T10:00:00+00:00", {"outcome": "inspected"}, changed=False),
    ]
    found = check_host(HOST, asset({**PATCHED, "openssl": "3.0.11-1~deb12u1"}), runs)
    assert found is not None and found.kind == REVERTED
    assert found.run_ids == ["20260301T100000Z-patch1"]
    assert found.packages == [
        {
            "name": "openssl",
            "expected": "3.0.15-1~deb12u1",
            "found": "3.0.11-1~deb12u1",
            "run_id": "20260301T100000Z-patch1",
        }
    ]
    assert found.boot_time == "2026-03-03T07:00:00+00:00"
    assert "20260301T100000Z-patch1" in found.detail and "openssl" in found.detail and "07:00:00" in found.detail


def test_removed_package_is_reverted() -> None:
    runs = [run("20260301T100000Z-patch1", "patch", "2026-03-01T10:00:00+00:00", PATCH)]
    items = {k: v for k, v in PATCHED.items() if k != "libnew1"}
    found = check_host(HOST, asset(items), runs)
    assert found is not None and found.kind == REVERTED
    assert found.packages[0]["name"] == "libnew1" and found.packages[0]["found"] is None
    assert "removed" in found.detail


def test_downgrade_by_a_ccops_rollback_is_not_reverted() -> None:
    runs = [
        run("20260301T100000Z-patch1", "patch", "2026-03-01T10:00:00+00:00", PATCH),
        run("20260302T100000Z-rollb1", "rollback", "2026-03-02T10:00:00+00:00", {"outcome": "rolled_back"}),
    ]
    old = {"openssl": "3.0.11-1~deb12u1", "curl": "7.88.1-10+deb12u4", "bash": "5.2.15-2+b2"}
    assert check_host(HOST, asset(old), runs) is None


def test_a_patch_that_rolled_back_sets_no_expectation() -> None:
    rolled = {**PATCH, "outcome": "rolled_back", "rollback": {"id": "b1", "paths": []}}
    runs = [run("20260301T100000Z-patch1", "patch", "2026-03-01T10:00:00+00:00", rolled)]
    assert check_host(HOST, asset({"openssl": "3.0.11-1~deb12u1"}), runs) is None


def test_a_run_after_the_inspection_is_not_used() -> None:
    runs = [run("20260304T100000Z-patch1", "patch", "2026-03-04T10:00:00+00:00", PATCH)]
    assert check_host(HOST, asset({"openssl": "3.0.11-1~deb12u1"}), runs) is None


def test_software_downgrade_is_reverted() -> None:
    report = {
        "outcome": "applied",
        "reason": "",
        "changes": [{"app": "softphone", "action": "upgrade", "from": "2.0", "to": "2.1"}],
    }
    runs = [run("20260301T100000Z-soft01", "software-apply", "2026-03-01T10:00:00+00:00", report)]
    found = check_host(HOST, asset({"softphone": "2.0"}), runs)
    assert found is not None and found.kind == REVERTED and found.packages[0]["expected"] == "2.1"


@pytest.mark.parametrize(
    "items",
    [
        None,  # no packages at all
        {},  # an empty list
        {"openssl": 3, "curl": ["x"]},  # versions not strings: dropped as damage when read
        "not a mapping",
    ],
)
def test_hostile_inspection_is_damaged_never_a_crash(items: Any) -> None:
    runs = [run("20260301T100000Z-patch1", "patch", "2026-03-01T10:00:00+00:00", PATCH)]
    found = check_host(HOST, asset(items), runs)
    assert found is not None and found.kind == DAMAGED
    assert found.run_ids == ["20260301T100000Z-patch1"]


def test_hostile_versions_and_reports_are_damaged() -> None:
    found = check_host(
        HOST,
        asset({**PATCHED, "openssl": "3.0;reboot"}),
        [run("20260301T100000Z-patch1", "patch", "2026-03-01T10:00:00+00:00", PATCH)],
    )
    assert found is not None and found.kind == DAMAGED and "openssl" in found.detail
    hostile = {
        "outcome": "patched",
        "versions_after": {"openssl": 5, "curl": "7.88.1-10+deb12u8"},
        "packages_changed": "x",
    }
    found = check_host(
        HOST, asset(PATCHED), [run("20260301T100000Z-patch2", "patch", "2026-03-01T10:00:00+00:00", hostile)]
    )
    assert found is not None and found.kind == DAMAGED and "20260301T100000Z-patch2" in found.detail
    for junk in ({"record": "x"}, {"collected": None}, "x", None):
        check_host(HOST, junk, [run("r", "patch", "not a time", {"versions_after": [1]}, outcome=None)])  # type: ignore[arg-type]
    found = check_host(
        HOST,
        asset(PATCHED, uptime="long"),
        [run("20260301T100000Z-patch1", "patch", "2026-03-01T10:00:00+00:00", PATCH)],
    )
    assert found is None


def test_reapply_takes_the_reverted_runs_snapshots_and_leaves_software_hosts_to_software() -> None:
    from ccops.report.reverted import Finding, reapply_plan

    first = run("20260301T100000Z-patch1", "patch", "2026-03-01T10:00:00+00:00", PATCH)
    first.request = {"options": {"ccops_reboot": "never", "patch_content": {"aaa": {"id": "aaa-snap-1", "path": "x"}}}}
    later = run("20260302T100000Z-patch2", "patch", "2026-03-02T10:00:00+00:00", PATCH)
    later.request = {
        "options": {"patch_content": {"aaa": {"id": "aaa-snap-2"}, "bbb": {"id": 5}}, "ccops_reboot": "$x"}
    }
    soft = run("20260302T110000Z-soft01", "software-apply", "2026-03-02T11:00:00+00:00", {"outcome": "applied"})

    def finding(host: str, *runs: str) -> Finding:
        packages = [{"name": f"p{i}", "expected": "2", "found": "1", "run_id": r} for i, r in enumerate(runs)]
        return Finding(host, REVERTED, "", sorted(set(runs)), packages)  # type: ignore[arg-type]

    found = [
        finding("aaa-t01", first.id),
        finding("aaa-t02", later.id, soft.id),
        finding("aaa-t03", soft.id),
        Finding("aaa-t04", DAMAGED, "cannot tell"),
    ]
    plan = reapply_plan(found, [first, later, soft])
    assert plan is not None
    assert plan.hosts == ["aaa-t01", "aaa-t02"] and plan.not_patch == ["aaa-t03"]
    assert plan.options == {
        "ccops_reboot": "never",
        "content_snapshot": None,
        "patch_content": {"aaa": {"id": "aaa-snap-2"}},
    }
    assert plan.reason == f"reverted after {first.id}, {later.id}"
    only = reapply_plan(found, [first, later, soft], only_run=first.id)
    assert only is not None and only.hosts == ["aaa-t01"] and only.reason == f"reverted after {first.id}"
    assert reapply_plan(found[2:], [first, later, soft]) is None


def test_read_only_runs_between_keep_the_expectation_and_a_fix_resets_it() -> None:
    patched = run("20260301T100000Z-patch1", "patch", "2026-03-01T10:00:00+00:00", PATCH)
    taken_back = asset({**PATCHED, "openssl": "3.0.11-1~deb12u1"})
    read_only = [  # an inspection that refreshed the package lists reports "changed"; it still changes nothing
        run("20260302T090000Z-insp00", "inspect", "2026-03-02T09:00:00+00:00", {"outcome": "inspected"}),
        run("20260302T100000Z-check1", "comply-check", "2026-03-02T10:00:00+00:00", {"outcome": "compliant"}),
    ]
    found = check_host(HOST, taken_back, [patched, *read_only])
    assert found is not None and found.kind == REVERTED
    fix = run("20260302T110000Z-fix001", "comply", "2026-03-02T11:00:00+00:00", {"outcome": "fixed"})
    assert check_host(HOST, taken_back, [patched, *read_only, fix]) is None
    unchanged = run(
        "20260302T110000Z-fix002", "comply", "2026-03-02T11:00:00+00:00", {"outcome": "compliant"}, changed=False
    )
    assert check_host(HOST, taken_back, [patched, unchanged]) is not None
