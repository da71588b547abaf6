"""ccops risks and ccops report from records written through the store's API (no host needed)."""

from __future__ import annotations

import csv
import io
import re

from ccops.report.html import render_html
from ccops.store.records import Store
from tests.conftest import write_inventory
from tests.fleet_records import seed_fleet, site_file, start
from tests.json_output import payload

EVIL = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"


def fleet(ccops, tmp_path, risk_aaa: str = "", **seed):
    inv = write_inventory(
        tmp_path / "inv",
        {
            "aaa.yml": site_file("aaa", 4, "10.0.0.1", risk=risk_aaa, name=seed.pop("site_name", "Centre")),
            "bbb.yml": site_file("bbb", 3, "10.0.1.1", os="debian11"),
        },
    )
    seed_fleet(Store(ccops.home / "ccops.db"), **seed)
    return inv


def kinds(risks: list[dict]) -> set[tuple[str | None, str]]:
    return {(r["host"], r["kind"]) for r in risks}


def test_the_risk_list_names_every_kind_of_risk(ccops, tmp_path):
    inv = fleet(ccops, tmp_path)
    result = ccops("risks", "-i", str(inv), "-o", "json")
    assert result.returncode == 0, result.stderr
    risks = payload(result.stdout)["risks"]
    assert kinds(risks) == {
        ("aaa-t01", "security_overdue"),
        ("aaa-t02", "security_overdue"),
        ("bbb-t01", "security_overdue"),
        ("aaa-t02", "disk_full"),
        ("aaa-t02", "out_of_policy"),
        ("aaa-t03", "service_failed"),
        ("aaa-t03", "disk_growing"),
        ("aaa-t04", "not_seen"),
        ("bbb-t03", "not_seen"),
        (None, "run_problem"),
    }
    # most urgent first; retired hosts carry no risk; the run is bbb's (its failed host's site)
    assert risks[0]["kind"] == "run_problem" and risks[0]["site"] == "bbb" and risks[0]["hosts"] == ["bbb-t01"]
    assert not any(r["host"] and r["host"].endswith("old01") for r in risks)
    text = ccops("risks", "-i", str(inv), "--site", "bbb").stdout
    assert "aaa-" not in text and "bbb-t01  security_overdue" in text and "3 risk(s)" in text


def test_a_comply_check_that_found_deviations_is_not_also_a_failed_run(ccops, tmp_path):
    inv = fleet(ccops, tmp_path)
    store = Store(ccops.home / "ccops.db")
    deviation = {"policy": "usb_storage", "detail": "loadable"}
    for run_id, unreachable in (("20261122T090000Z-ffffff", False), ("20261122T091000Z-999999", True)):
        start(store, run_id, "comply-check")
        hosts = [
            {"host": "aaa-t02", "outcome": "failed", "report": {"outcome": "noncompliant", "deviations": [deviation]}}
        ]
        if unreachable:
            hosts.append({"host": "aaa-t01", "outcome": "unreachable", "message": "ssh timed out"})
        store.record_hosts(run_id, hosts)
        store.finish_run(run_id, "failed", 2)
    risks = payload(ccops("risks", "-i", str(inv), "-o", "json").stdout)["risks"]
    problems = {r["run_id"]: r["hosts"] for r in risks if r["kind"] == "run_problem"}
    # the deviation is aaa-t02's out_of_policy line; only the run that could not reach a host is a run problem
    assert problems == {"20261122T080000Z-dddddd": ["bbb-t01"], "20261122T091000Z-999999": ["aaa-t01"]}
    assert [r["host"] for r in risks if r["kind"] == "out_of_policy"] == ["aaa-t02"]


def test_site_thresholds_change_the_list(ccops, tmp_path):
    inv = fleet(ccops, tmp_path, risk_aaa="{security_pending_days: 30, disk_used_pct: 96, disk_growth_pct_per_day: 50}")
    risks = payload(ccops("risks", "-i", str(inv), "--site", "aaa", "-o", "json").stdout)["risks"]
    assert {k for _, k in kinds(risks)} == {"out_of_policy", "service_failed", "not_seen"}


def test_bad_thresholds_are_file_line_errors(ccops, tmp_path):
    inv = fleet(ccops, tmp_path, risk_aaa="{disk_used_pct: 150, not_seen_days: true, nonsense: 1}")
    result = ccops("inventory", "validate", "-i", str(inv))
    assert result.returncode == 1
    assert re.search(r"sites/aaa\.yml:6: site\.risk\.disk_used_pct: 150 is not between 1 and 100", result.stderr)
    assert "site.risk.not_seen_days: expected" in result.stderr
    assert "site.risk.nonsense: unknown key" in result.stderr
    refused = ccops("report", "-i", str(inv), "--format", "json")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr


def test_unknown_site_is_a_usage_error(ccops, tmp_path):
    inv = fleet(ccops, tmp_path)
    for command in (["risks"], ["report"]):
        result = ccops(*command, "-i", str(inv), "--site", "zzz")
        assert result.returncode == 64 and "no such site" in result.stderr


def test_json_and_csv_reports_agree(ccops, tmp_path):
    inv = fleet(ccops, tmp_path)
    report = payload(ccops("report", "-i", str(inv), "--format", "json").stdout)
    totals = report["totals"]
    assert totals == {
        "hosts": 9,
        "watched": 7,
        "inspected": 5,
        "in_policy": 1,
        "out_of_policy": 1,
        "never_checked": 5,
        "pending_updates": 8,
        "security_updates": 4,
        "hosts_with_security": 4,
        "hosts_overdue": 3,
        "risks": 10,
    }
    aaa = report["sites"][0]
    assert aaa["by_os"] == {"debian11": 1, "debian12": 4} and {"band": "86-95%", "hosts": 1} in aaa["disks"]
    assert aaa["compliance"] == {"in_policy": 1, "out_of_policy": 1, "never_checked": 2}
    assert [r["status"] for r in report["runs"]][:2] == ["halted", "succeeded"]
    out = tmp_path / "fleet.csv"
    assert ccops("report", "-i", str(inv), "--format", "csv", "--to", str(out)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 9 and {r["host"] for r in rows} == {h["host"] for h in report["hosts"]}
    t02 = next(r for r in rows if r["host"] == "aaa-t02")
    assert (t02["compliance"], t02["deviations"], t02["fullest_disk_used_pct"], t02["risks"]) == (
        "out of policy",
        "1",
        "95.0",
        "3",
    )
    folder = ccops("report", "-i", str(inv), "--to", str(tmp_path))  # a wrong argument: usage (64)
    assert folder.returncode == 64 and "is a folder" in folder.stderr


def test_hostile_values_are_escaped(ccops, tmp_path):
    """Site name, service, package and deviation text from hosts and site files reach the page only as text."""
    inv = fleet(ccops, tmp_path, site_name=EVIL, service=EVIL, package=EVIL, detail=EVIL)
    page = ccops("report", "-i", str(inv), "--format", "html").stdout
    assert_escaped(page)
    assert page.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot;&gt;&lt;img") >= 3
    json_report = payload(ccops("report", "-i", str(inv), "--format", "json").stdout)
    assert any(EVIL in r["detail"] for r in json_report["risks"])  # JSON keeps the value itself


def test_a_hostile_host_name_is_escaped_by_the_renderer():
    """Site files refuse such names; the renderer escapes them anyway (records may come from elsewhere)."""
    report = {
        "generated": EVIL,
        "inventory": EVIL,
        "sites": [
            {
                "code": EVIL,
                "name": EVIL,
                "city": EVIL,
                "hosts": 1,
                "watched": 1,
                "inspected": 1,
                "by_os": {EVIL: 1},
                "by_lifecycle": {},
                "compliance": {"in policy": 0, "out of policy": 1, "never checked": 0},
                "patches": dict.fromkeys(
                    ("pending_updates", "security_updates", "hosts_with_pending", "hosts_with_security"), 1
                )
                | {"hosts_overdue": 0},
                "disks": {EVIL: 1},
                "risks": 1,
                "thresholds": {"security_pending_days": 7},
            }
        ],
        "fleet": [{"site": EVIL, "os": EVIL, "hosts": 1}],
        "totals": dict.fromkeys(
            ("hosts", "watched", "inspected", "in_policy", "out_of_policy", "never_checked", "pending_updates"), 1
        )
        | dict.fromkeys(("security_updates", "hosts_with_security", "hosts_overdue", "risks"), 1),
        "risks": [{"site": EVIL, "host": EVIL, "kind": "out_of_policy", "detail": EVIL}],
        "runs": [
            {
                "id": EVIL,
                "verb": EVIL,
                "operator": EVIL,
                "change_id": EVIL,
                "started": EVIL,
                "ended": None,
                "status": EVIL,
                "hosts": 1,
                "outcomes": {EVIL: 1},
            }
        ],
        "hosts": [
            {
                "host": EVIL,
                "site": EVIL,
                "role": EVIL,
                "os": EVIL,
                "lifecycle": EVIL,
                "last_inspected": EVIL,
                "pending_updates": 1,
                "security_updates": 1,
                "fullest_disk": EVIL,
                "fullest_disk_used_pct": 1,
                "compliance": EVIL,
                "risks": 1,
            }
        ],
    }
    assert_escaped(render_html(report))


def assert_escaped(page: str) -> None:
    lowered = page.lower()
    assert "<script" not in lowered and "<img" not in lowered
    assert "&lt;script&gt;" in page
    # every attribute value is quoted and holds no raw quote or angle bracket
    for value in re.findall(r'=\s*"([^"]*)"', page):
        assert "<" not in value and ">" not in value
    assert "script-src" not in page and "default-src 'none'" in page
