"""Which hosts a site's quarantine policy holds and which automatic holds lift (ccops.quarantine.evaluate),
from the store's own shapes: compliance entries, run records with host outcomes, reverted findings and
vuln_fixable risks as ccops.vulns.risks yields them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ccops.inventory.load import load_inventory
from ccops.quarantine.evaluate import evaluate
from ccops.report.reverted import Finding
from ccops.report.risks import FleetState
from ccops.store.holds import Hold
from ccops.store.records import RunRecord
from tests.conftest import write_inventory
from tests.unit.test_quarantine_overlay import SITE

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat(timespec="seconds")


def _run(run_id: str, verb: str, days_ago: float, outcomes: dict[str, str], message: str = "") -> RunRecord:
    hosts = [{"host": h, "outcome": o, **({"message": message} if message else {})} for h, o in outcomes.items()]
    return RunRecord(
        id=run_id, verb=verb, operator="op", change_id=None, git_commit=None, inventory="inv", inventory_sha256="x",
        selectors={}, started=_at(days_ago), ended=_at(days_ago), status="failed", exit_code=2, message=None,
        request={}, plan={}, pid=None, hosts=hosts,
    )  # fmt: skip


def _out_of_policy(run_id: str, days_ago: float) -> dict:
    return {"run_id": run_id, "checked": _at(days_ago), "deviations": [{"policy": "usb_storage", "detail": "on"}]}


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    return load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": SITE}))


def _state(**kwargs) -> FleetState:
    return FleetState(now=NOW, latest={}, recent={}, **{"compliance": {}, **kwargs})


def test_a_host_out_of_policy_longer_than_the_site_allows_is_held_and_a_newer_one_is_not(inventory):
    runs = [
        _run("c1", "comply-check", 6, {"tst-a01": "ok", "tst-a02": "ok"}),
        _run("c2", "comply-check", 4, {"tst-a01": "failed", "tst-a02": "ok"}),
        _run("c3", "comply-check", 2, {"tst-a01": "failed", "tst-a02": "failed"}),
        _run("c4", "comply-check", 0.5, {"tst-a01": "failed", "tst-a02": "failed"}),
    ]
    compliance = {"tst-a01": _out_of_policy("c4", 0.5), "tst-a02": _out_of_policy("c4", 0.5)}
    found = evaluate(inventory, _state(compliance=compliance, runs=runs), {}, NOW)
    assert [h.host for h in found.holds] == ["tst-a01"]  # out of policy since c2: 4 days > 3
    assert found.holds[0].automatic and found.holds[0].reasons == [
        f"out of policy for 4.0 days (since {_at(4)}; the site allows 3)"
    ]
    assert not found.lifts and not found.refused


def test_a_passing_check_in_between_restarts_the_count(inventory):
    runs = [
        _run("c1", "comply-check", 8, {"tst-a01": "failed"}),
        _run("c2", "comply", 5, {"tst-a01": "changed"}),
        _run("c3", "comply-check", 2, {"tst-a01": "failed"}),
        _run("i1", "inspect", 1, {"tst-a01": "failed"}),  # not a compliance result
    ]
    state = _state(compliance={"tst-a01": _out_of_policy("c3", 2)}, runs=runs)
    assert evaluate(inventory, state, {}, NOW).holds == []


def test_a_high_cve_past_its_limit_and_a_reverted_patch_hold_a_medium_cve_does_not(inventory):
    vulns = [
        {"host": "tst-a01", "kind": "vuln_fixable", "urgency": "medium", "detail": "CVE-2026-1 (medium) ..."},
        {"host": "tst-a02", "kind": "vuln_fixable", "urgency": "critical", "detail": "CVE-2026-2 (critical) ..."},
    ]
    reverted = {
        "tst-a03": Finding("tst-a03", "reverted", "openssl 3.0.15 expected, 3.0.11 found", ["p1"]),
        "tst-a04": Finding("tst-a04", "damaged", "the asset record does not read"),
    }
    found = evaluate(inventory, _state(reverted=reverted), {}, NOW, vulns)
    assert {h.host: h.reasons for h in found.holds} == {
        "tst-a02": ["vulnerability: CVE-2026-2 (critical) ..."],
        "tst-a03": ["reverted: openssl 3.0.15 expected, 3.0.11 found"],
    }


def test_a_failed_decommission_holds_only_where_the_site_asks_for_it(inventory, tmp_path):
    runs = [_run("d1", "decommission", 1, {"tst-a01": "failed"}, "decommission: tst-a01 was not confirmed by name")]
    assert evaluate(inventory, _state(runs=runs), {}, NOW).holds == []
    text = SITE.replace("reverted: true}", "reverted: true, decommission_guard: true}")
    guarded = load_inventory(write_inventory(tmp_path / "guarded", {"tst.yml": text}))
    found = evaluate(guarded, _state(runs=runs), {}, NOW)
    assert found.holds[0].reasons == [
        "decommission run d1 failed on it: decommission: tst-a01 was not confirmed by name"
    ]
    later = [*runs, _run("d2", "decommission", 0.5, {"tst-a01": "ok"})]
    assert evaluate(guarded, _state(runs=later), {}, NOW).holds == []


def test_a_host_the_site_depends_on_is_reported_not_held(inventory):
    vulns = [{"host": "tst-bk", "urgency": "high", "detail": "CVE-2026-3 (high) ..."}]
    found = evaluate(inventory, _state(), {}, NOW, vulns)
    assert found.holds == [] and "backup target" in found.refused["tst-bk"]


def _hold(host: str, automatic: bool = True, days_ago: float = 2, applied: str | None = "q1") -> Hold:
    return Hold(host, "tst", _at(days_ago), ["out of policy"], automatic=automatic, applied_run=applied)


def test_an_automatic_hold_lifts_after_a_passing_check_that_is_not_its_own_run(inventory):
    passing = {"run_id": "q1", "checked": _at(1.9), "deviations": []}
    holds = {"tst-a01": _hold("tst-a01")}
    assert evaluate(inventory, _state(compliance={"tst-a01": passing}), holds, NOW).lifts == {}
    later = {"run_id": "c9", "checked": _at(0.2), "deviations": []}
    found = evaluate(inventory, _state(compliance={"tst-a01": later}), holds, NOW)
    assert found.lifts == {"tst-a01": "in policy at comply run c9, no hold condition left"} and found.holds == []
    before_hold = {"run_id": "c0", "checked": _at(3), "deviations": []}
    assert evaluate(inventory, _state(compliance={"tst-a01": before_hold}), holds, NOW).lifts == {}


def test_a_hold_whose_condition_still_holds_stays_and_a_manual_hold_never_lifts_by_itself(inventory):
    passing = {"run_id": "c9", "checked": _at(0.2), "deviations": []}
    vulns = [{"host": "tst-a01", "urgency": "high", "detail": "CVE-2026-4 (high) ..."}]
    holds = {"tst-a01": _hold("tst-a01"), "tst-a02": _hold("tst-a02", automatic=False)}
    state = _state(compliance={"tst-a01": passing, "tst-a02": passing})
    found = evaluate(inventory, state, holds, NOW, vulns)
    assert found.lifts == {} and found.holds == []  # tst-a01 still has its CVE; tst-a02 is a person's hold
    gone = {"tst-gone": _hold("tst-gone"), "tst-gone2": _hold("tst-gone2", automatic=False)}
    assert evaluate(inventory, state, gone, NOW).lifts == {"tst-gone": "no longer in the inventory"}


def test_a_site_without_a_policy_never_holds(inventory, tmp_path):
    text = SITE.replace("  quarantine: {out_of_policy_days: 3, vuln_urgency: high, reverted: true}\n", "")
    plain = load_inventory(write_inventory(tmp_path / "plain", {"tst.yml": text}))
    vulns = [{"host": "tst-a02", "urgency": "critical", "detail": "CVE"}]
    reverted = {"tst-a03": Finding("tst-a03", "reverted", "taken back")}
    compliance = {"tst-a01": _out_of_policy("c1", 30)}
    found = evaluate(plain, _state(compliance=compliance, reverted=reverted), {}, NOW, vulns)
    assert found.holds == [] and found.lifts == {}


def test_a_reason_built_from_what_a_host_reported_is_one_inert_line(inventory, tmp_path):
    text = SITE.replace("reverted: true}", "reverted: true, decommission_guard: true}")
    guarded = load_inventory(write_inventory(tmp_path / "guarded", {"tst.yml": text}))
    message = "stopped\n\x1b]52;c;cm0gLXJmIC8=\x07FAKE: all fine" + "x" * 500
    runs = [_run("d1", "decommission", 1, {"tst-a01": "failed"}, message)]
    (reason,) = evaluate(guarded, _state(runs=runs), {}, NOW).holds[0].reasons
    assert reason.isprintable() and "\\n" in reason and "\\x1b" in reason and len(reason) <= 300
