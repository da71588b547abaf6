"""Safe defaults: a failed canary halts unless the site says otherwise, never-reached hosts are not ok,
change ids are exact one-line ids, every batch attempt keeps its own artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccops.inventory.load import load_inventory
from ccops.paths import project_root
from ccops.plan.build import Batch, Wave
from ccops.plan.gates import DEFAULT_MAX_FAIL_PERCENTAGE, gate_reason
from ccops.runner.engine import Batch as EngineBatch
from ccops.runner.engine import Execution, run_batch
from ccops.runner.events import EventCollector, HostOutcome
from tests.conftest import run_ccops, site_text, write_inventory
from tests.json_output import payload


def _inventory(tmp_path: Path, rollout: str = "", count: int = 20, address: str = "10.9.0.1"):
    text = site_text(count=count, address=address)
    if rollout:
        text = text.replace('{canary: 1, waves: ["50%", "100%"], batch_size: 2}', rollout)
    return write_inventory(tmp_path / "inv", {"a.yml": text})


def _wave(inventory, name: str, names: list[str]) -> Wave:
    return Wave(name, [Batch("tst", [inventory.hosts[n] for n in names])])


def test_without_a_site_limit_a_failed_canary_halts_and_later_waves_get_the_default(tmp_path):
    inventory = load_inventory(_inventory(tmp_path))
    canary = _wave(inventory, "canary", ["tst-t01"])
    failed = [HostOutcome("tst-t01", "failed")]
    reason = gate_reason(inventory, canary, failed, failed)
    assert reason and reason.startswith(
        "canary: 1 of 1 host(s) at site tst failed (100% > max_fail_percentage 0%, "
        "the default for a canary; a site sets its own with rollout."
    )
    names = [f"tst-t{i:02d}" for i in range(2, 12)]  # 10 hosts: one failure is 10 %, not more than the default
    wave = _wave(inventory, "wave 1 (50%)", names)
    one = [HostOutcome(n, "failed" if n == "tst-t02" else "ok") for n in names]
    assert DEFAULT_MAX_FAIL_PERCENTAGE == 10 and gate_reason(inventory, wave, one, one) is None
    two = [HostOutcome(n, "unreachable" if n in ("tst-t02", "tst-t03") else "ok") for n in names]
    assert "20% > max_fail_percentage 10%, the default for a wave" in gate_reason(inventory, wave, two, two)


def test_a_site_limit_applies_to_the_canary_too(tmp_path):
    inventory = load_inventory(_inventory(tmp_path, "{canary: 2, batch_size: 2, max_fail_percentage: 50}"))
    canary = _wave(inventory, "canary", ["tst-t01", "tst-t02"])
    one = [HostOutcome("tst-t01", "failed"), HostOutcome("tst-t02", "ok")]
    assert gate_reason(inventory, canary, one, one) is None  # the site accepts half its canary failing


def test_a_patch_with_no_limit_stops_after_its_unreachable_canary(tmp_path, ccops):
    inv = _inventory(tmp_path, count=4, address="127.0.0.9")  # nothing answers there
    result = ccops("patch", "-i", str(inv), "--change-id", "CHG-9", "--yes", "--emergency", "-o", "json", timeout=300)
    data = payload(result.stdout)
    assert result.returncode == 3 and data["status"] == "halted", result.stderr
    assert [(h["host"], h["outcome"]) for h in data["hosts"]] == [("tst-t01", "unreachable")]
    assert "the default for a canary" in data["message"]


def test_hosts_a_serial_play_never_reached_are_not_run_not_ok(tmp_path):
    """The issue's `ccops rollback 'tst-a0*'`: serial 1, max_fail_percentage 0, the first host fails."""
    inv = _inventory(tmp_path, count=3, address="127.0.0.9")
    collector = EventCollector()
    hosts = ["tst-t01", "tst-t02", "tst-t03"]
    run_batch(
        EngineBatch(
            "w1-b1-a1",
            "playbooks/rollback.yml",
            inv / "ccops.yml",
            hosts,
            {"ccops_run_id": "test", "ccops_action": "rollback", "ccops_confirmed": True, "ccops_backup_id": "none"},
            5,
        ),
        Execution(tmp_path / "run", collector, lambda: False, set()),
    )
    assert (project_root() / "playbooks" / "rollback.yml").exists()
    # all three passed the validation play (Ansible's stats count them ok); two were never contacted
    assert all(h in collector.stats["ok"] for h in hosts)
    first, *rest = collector.outcomes(hosts)
    assert first.outcome in ("failed", "unreachable")  # no such backup, or no such host: either stops the play
    assert [(o.host, o.outcome) for o in rest] == [("tst-t02", "not run"), ("tst-t03", "not run")]


def test_a_host_without_any_event_is_never_ok():
    collector = EventCollector()
    collector.stats = {"ok": {"a": 1}, "dark": {}, "failures": {}}
    assert [o.outcome for o in collector.outcomes(["a", "b"])] == ["not run", "not run"]


@pytest.mark.parametrize(
    ("change_id", "why"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("CHG-1\nrm", "control character"),
        ("CHG\x1b[31m", "control character"),
        ("CHG\u2028x", "control character"),
        ("x" * 129, "at most 128"),
        (" CHG-1", "starts or ends with spaces"),
    ],
)
def test_change_ids_are_refused_in_one_line(ccops, tmp_path, change_id, why):
    inv = _inventory(tmp_path, count=2, address="127.0.0.9")
    for argv in (
        ["patch", "-i", str(inv), "--yes", "--emergency", "--change-id", change_id],
        ["inspect", "-i", str(inv), "--change-id", change_id],
    ):
        result = ccops(*argv)
        assert result.returncode == 64 and why in result.stderr, result.stderr  # a usage error
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (ccops.home / "runs").exists()  # nothing ran


def test_every_batch_attempt_keeps_its_own_artifacts(tmp_path):
    inv = _inventory(tmp_path, "{canary: 1, batch_size: 1}", count=1, address="127.0.0.9")
    home = tmp_path / "home"
    first = run_ccops(home, "patch", "-i", str(inv), "--change-id", "CHG-A", "--yes", "--emergency", "-o", "json")
    run_id = payload(first.stdout)["run_id"]
    again = run_ccops(home, "resume", run_id, "--yes", "-o", "json")
    assert payload(again.stdout)["run_id"] == run_id
    artifacts = home / "runs" / run_id / "artifacts"
    # patch's select pass and the batch, each in the run and its resume (the host never answers)
    attempts = ["select-a1", "select-a2", "w1-b1-a1", "w1-b1-a2"]
    assert sorted(p.name for p in artifacts.iterdir()) == attempts
    assert all(list((artifacts / a / "job_events").iterdir()) for a in attempts)
