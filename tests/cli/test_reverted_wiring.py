"""ccops risks, ccops host show and the report show a reverted host (after the lead wires ccops.report.reverted in)."""

from __future__ import annotations

from pathlib import Path

from ccops.store.records import Store
from tests.cli.test_reverted import PATCH_RUN, PATCHED, RULES, clock, free_port, home, inspect, patch, times  # noqa: F401
from tests.conftest import ccops_env, run_ccops
from tests.json_output import payload
from tests.notify_fixtures import inventory


def test_risks_host_show_and_report_name_the_reverted_host(tmp_path: Path, home: Path, clock: list[str]) -> None:  # noqa: F811
    inv = inventory(tmp_path / "inv", RULES.format(port=free_port()))
    store = Store(home / "ccops.db")
    times(clock, "1T10:00:00", "1T10:00:00", "1T10:20:00", "3T08:00:00", "3T08:00:00", "3T08:01:00", "3T08:01:00")
    patch(store, inv)
    inspect(store, inv, {**PATCHED, "openssl": "3.0.11-1~deb12u1"})
    env = ccops_env(home)
    risks = payload(run_ccops(home, "risks", "-i", str(inv), "--output", "json", env=env, check=True).stdout)
    reverted = [r for r in risks["risks"] if r["kind"] == "reverted"]
    assert [(r["host"], r["run_id"]) for r in reverted] == [("aaa-t01", PATCH_RUN)]
    assert risks["risks"][0]["kind"] in ("run_problem", "reverted")
    text = run_ccops(home, "host", "show", "aaa-t01", "-i", str(inv), env=env, check=True).stdout
    assert "Reverted packages: 1 taken back" in text and "openssl: 3.0.15-1~deb12u1 -> 3.0.11-1~deb12u1" in text
    shown = payload(
        run_ccops(home, "host", "show", "aaa-t01", "-i", str(inv), "--output", "json", env=env, check=True).stdout
    )
    assert shown["reverted"]["run_ids"] == [PATCH_RUN]
    report = run_ccops(home, "report", "-i", str(inv), "--format", "json", env=env, check=True).stdout
    assert any(r["kind"] == "reverted" and r["host"] == "aaa-t01" for r in payload(report)["risks"])
