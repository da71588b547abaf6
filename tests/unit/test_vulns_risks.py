"""vuln_fixable: a fix a snapshot holds, waiting longer than the site allows for its urgency."""

from ccops.vulns.classify import Row
from ccops.vulns.risks import fixable_risks


def _row(urgency, age, state="fixable", origin="changelog", site="njjy"):
    return Row("t1", site, "CVE-2024-9143", state, urgency, "libssl3", "3.0.14-1", "3.0.15-1", "20261201T000000-aaaaaa",
               "2026-12-01T00:00:00+00:00", age, origin)  # fmt: skip


def test_each_urgency_has_its_limit_and_a_site_can_set_it():
    rows = [_row("high", 2.5), _row("high", 1.9), _row("medium", 10.0), _row("low", 31.0), _row("critical", 1.1)]
    found = fixable_risks(rows, {"njjy": {}})
    assert [(r["urgency"], r["days"]) for r in found] == [("high", 2.5), ("low", 31.0), ("critical", 1.1)]
    assert found[0]["kind"] == "vuln_fixable" and "the site allows 2" in found[0]["detail"]
    stricter = fixable_risks(rows, {"njjy": {"vuln_medium_days": 7, "vuln_high_days": 1}})
    assert [(r["urgency"], r["days"]) for r in stricter] == [
        ("high", 2.5), ("high", 1.9), ("medium", 10.0), ("low", 31.0), ("critical", 1.1)]  # fmt: skip


def test_only_fixable_changelog_rows_with_an_age_count():
    rows = [
        _row("high", 9.0, state="fixed"),
        _row("high", None, origin="tracker"),
        _row("high", None),
        _row("unimportant", 400.0),
    ]
    assert fixable_risks(rows, {"njjy": {}}) == []


def test_a_site_file_sets_its_limits_and_a_wrong_one_names_its_line(tmp_path):
    from ccops.inventory.load import check_inventory
    from ccops.report.risks import thresholds
    from tests.conftest import site_text, write_inventory

    def with_risk(folder, risk):
        text = site_text("tst").replace("  timezone: Asia/Shanghai\n", f"  timezone: Asia/Shanghai\n  risk: {risk}\n")
        return write_inventory(folder, {"tst.yml": text})

    model, problems = check_inventory(with_risk(tmp_path / "good", "{vuln_high_days: 0.5, vuln_low_days: 60}"))
    assert model is not None and not problems
    limits = thresholds(model, "tst")
    found = fixable_risks([_row("high", 0.6, site="tst"), _row("low", 45.0, site="tst")], {"tst": limits})
    assert [r["urgency"] for r in found] == ["high"]
    _, problems = check_inventory(with_risk(tmp_path / "bad", "{vuln_high_days: -1}"))
    assert [str(p) for p in problems if "vuln_high_days" in str(p)]
