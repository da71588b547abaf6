"""The sites' quarantine policies applied without a person (ccops.quarantine.auto): at the end of a
``comply --check`` (and of an inspection) the policy is evaluated and what it holds or lifts becomes a
recorded comply --fix run with its reasons; the hold lifts by itself after a later passing check; a
site without a policy gets no such run. Through the real CLI with scripted hosts."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_quarantine_cli import SITE, _report, fleet  # noqa: F401 - the fixture
from tests.conftest import run_scripted, write_inventory
from tests.json_output import payload


def _check(fleet, report: dict, *args: str) -> dict:  # noqa: F811
    outcomes: dict[str, str] = {}
    args = ("comply", "-i", fleet.inventory, "--check", "-o", "json", *args)
    result = fleet(*args, outcomes=outcomes, reports={"qa-a01": report})
    return {"code": result.returncode, "run": payload(result.stdout), "stderr": result.stderr}


def _holds(fleet) -> list[dict]:  # noqa: F811
    return payload(fleet("quarantine", "list", "-i", fleet.inventory, "-o", "json").stdout)["holds"]


def _runs(fleet) -> list[dict]:  # noqa: F811
    return payload(fleet("runs", "list", "-o", "json").stdout)


def _policy(fleet, text: str) -> None:  # noqa: F811
    site = Path(fleet.inventory) / "sites" / "qa.yml"
    site.write_text(site.read_text().replace("quarantine: {out_of_policy_days: 3}", text))


def test_a_failing_check_holds_the_host_and_a_later_passing_check_lifts_it(fleet):  # noqa: F811
    _policy(fleet, "quarantine: {out_of_policy_days: 0}")
    checked = _check(fleet, _report("usb storage is allowed"))
    assert checked["run"]["verb"] == "comply-check", checked["stderr"]
    (hold,) = _holds(fleet)
    assert (hold["host"], hold["kind"]) == ("qa-a01", "automatic") and hold["applied_run"]
    record = payload(fleet("runs", "show", hold["applied_run"], "-o", "json").stdout)
    assert record["verb"] == "comply" and [h["host"] for h in record["hosts"]] == ["qa-a01"]
    assert "hold qa-a01 (automatic): out of policy for" in record["request"]["reason"]
    # no change id on the check: the hold's run names the check that caused it
    assert record["change_id"] == f"quarantine-after-{checked['run']['run_id']}"

    # still out of policy: the hold stands, and no second hold or run is made
    before = len(_runs(fleet))
    _check(fleet, _report("usb storage is allowed"))
    assert len(_runs(fleet)) == before + 1 and [h["host"] for h in _holds(fleet)] == ["qa-a01"]

    passed = _check(fleet, _report(), "--limit", "qa-a01")
    assert passed["code"] == 0, passed["stderr"]
    assert _holds(fleet) == []
    (lifted,) = payload(fleet("quarantine", "list", "--all", "-i", fleet.inventory, "-o", "json").stdout)["holds"]
    shown = payload(fleet("runs", "show", lifted["lifted_run"], "-o", "json").stdout)
    assert shown["verb"] == "comply" and [h["host"] for h in shown["hosts"]] == ["qa-a01"]
    assert f"lift qa-a01: in policy at comply run {passed['run']['run_id']}" in shown["request"]["reason"]


def test_a_site_without_a_quarantine_policy_gets_no_run_after_its_check(fleet):  # noqa: F811
    _policy(fleet, "")
    assert _check(fleet, _report("usb storage is allowed"))["run"]["verb"] == "comply-check"
    assert [r["verb"] for r in _runs(fleet)] == ["comply-check"]
    assert _holds(fleet) == []


def test_a_comply_fix_that_puts_the_held_host_right_lifts_its_hold(fleet):  # noqa: F811
    _policy(fleet, "quarantine: {out_of_policy_days: 0}")
    _check(fleet, _report("usb storage is allowed"))
    (hold,) = _holds(fleet)
    fix = ("comply", "-i", fleet.inventory, "--fix", "--limit", "qa-a01", "--change-id", "CHG-7", "--yes")
    fixed = fleet(*fix, "-o", "json", reports={"qa-a01": _report()})
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert _holds(fleet) == []
    (lifted,) = payload(fleet("quarantine", "list", "--all", "-i", fleet.inventory, "-o", "json").stdout)["holds"]
    assert lifted["lift_reason"] == f"in policy at comply run {payload(fixed.stdout)['run_id']}, no hold condition left"
    lifting = payload(fleet("runs", "show", lifted["lifted_run"], "-o", "json").stdout)
    assert lifting["verb"] == "comply" and lifting["change_id"] == "CHG-7"  # under the fix's own change
    assert lifted["lifted_run"] not in (hold["applied_run"], payload(fixed.stdout)["run_id"])


def test_a_fix_in_the_same_second_as_the_holds_own_run_still_lifts_it(tmp_path):
    """The hold's own comply --fix (still out of policy) and the operator's passing one start in the same
    second, the operator's with the smaller run id: the passing one is the host's compliance and lifts."""
    inventory = write_inventory(
        tmp_path / "inv", {"qa.yml": SITE.replace("out_of_policy_days: 3", "out_of_policy_days: 0")}
    )

    def ccops(hex_digits: str, report: dict, *args: str):
        answers = {"outcomes": {}, "reports": {"qa-a01": report}, "run_id_hex": hex_digits}
        return run_scripted("tests.cli.same_second_cli", tmp_path / "home", tmp_path / "hosts.json", answers, *args)

    ccops("ff", _report("usb storage is allowed"), "comply", "-i", str(inventory), "--check")
    listing = ("quarantine", "list", "-i", str(inventory), "-o", "json")
    (hold,) = payload(ccops("ff", {}, *listing).stdout)["holds"]
    assert hold["applied_run"].split("-")[-1].startswith("ff")
    fix = ("comply", "-i", str(inventory), "--fix", "--limit", "qa-a01", "--change-id", "CHG-7", "--yes", "-o", "json")
    fixed = ccops("00", _report(), *fix)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    ran = payload(fixed.stdout)["run_id"]
    assert ran[:16] == hold["applied_run"][:16] and ran < hold["applied_run"]  # the same second, a smaller id
    assert payload(ccops("00", {}, *listing).stdout)["holds"] == []
