"""What decides the night, as a plan states it: gates, windows in site time, reboot, summary line."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ccops.cli.confirm import compact_plan, confirm
from ccops.inventory.load import load_inventory
from ccops.inventory.select import Selector, select
from ccops.plan.build import build_plan
from ccops.plan.night import night, night_lines, summary_line
from ccops.verbs import get_verb
from tests.conftest import EXAMPLE, site_text, write_inventory

MONDAY_WINDOW = '  timezone: Asia/Shanghai\n  maintenance_windows: [{days: [mon], start: "01:00", end: "05:00"}]\n'


def _plan(folder: Path, verb: str = "patch", rollout: str = "", selector: Selector | None = None, extra: str = ""):
    text = site_text("tst", 5).replace("  timezone: Asia/Shanghai\n", MONDAY_WINDOW) + extra
    if rollout:
        text = text.replace("batch_size: 2}", f"batch_size: 2, {rollout}}}")
    inventory = load_inventory(write_inventory(folder, {"tst.yml": text}))
    chosen = get_verb(verb)
    selector = selector or Selector()
    return build_plan(inventory, chosen, selector, select(inventory, selector, chosen.lifecycle))


def test_a_closed_window_says_when_it_opens_in_site_time(tmp_path):
    plan = _plan(tmp_path / "inv")
    sunday_evening_utc = datetime(2026, 12, 6, 16, 30, tzinfo=UTC)  # Mon 00:30 in Shanghai
    windows = night(plan, sunday_evening_utc)["sites"]["tst"]["windows"]
    assert windows == {
        "declared": ["mon 01:00-05:00"],
        "site_time": "Mon 00:30",
        "open_now": False,
        "opens_at": "Mon 2026-12-07 01:00",
    }
    after = night(plan, datetime(2026, 12, 7, 0, 0, tzinfo=UTC))["sites"]["tst"]["windows"]  # Mon 08:00 there
    assert after["opens_at"] == "Mon 2026-12-14 01:00"  # the next Monday, not today's window that has closed


def test_an_open_window_says_open_now(tmp_path):
    plan = _plan(tmp_path / "inv")
    windows = night(plan, datetime(2026, 12, 6, 18, 0, tzinfo=UTC))["sites"]["tst"]["windows"]  # Mon 02:00 there
    assert windows["open_now"] and windows["opens_at"] is None
    assert any("window open now" in line for line in night_lines(night(plan, datetime(2026, 12, 6, 18, tzinfo=UTC))))


def test_gates_show_the_site_limits_or_the_ccops_defaults(tmp_path):
    own = night(_plan(tmp_path / "a", rollout="max_fail_percentage: 20, max_failures: 3"))["sites"]["tst"]["gates"]
    assert own == {
        "canary": 1,
        "canary_max_fail_percentage": 20.0,
        "max_fail_percentage": 20.0,
        "default": False,
        "max_failures": 3,
    }
    default = night(_plan(tmp_path / "b"))["sites"]["tst"]["gates"]
    assert (default["canary_max_fail_percentage"], default["max_fail_percentage"], default["default"]) == (0, 10, True)
    line = night_lines(night(_plan(tmp_path / "c", rollout="max_failures: 3")))[-1]
    assert "canary 1 (max fail 0%)" in line and "waves max fail 10% (ccops default)" in line
    assert "max failures 3" in line


def test_read_only_verbs_state_no_gates_or_windows(tmp_path):
    data = night(_plan(tmp_path / "inv", verb="inspect"))
    assert "gates" not in data["sites"]["tst"] and "windows" not in data["sites"]["tst"] and "reboot" not in data


def test_the_summary_line_counts_hosts_waves_batches_and_hosts_left_out(tmp_path):
    plan = _plan(tmp_path / "inv", extra="hosts:\n  tst-t05: {lifecycle: retired}\n")
    # canary 1, then 50% and 100% of the other 3 (2 and 1) in batches of 2; the retired host is left out
    assert summary_line(plan) == "4 hosts in 3 waves, 3 batches; 1 not touched"
    example = load_inventory(EXAMPLE)
    verb = get_verb("patch")
    big = build_plan(example, verb, Selector(), select(example, Selector(), verb.lifecycle))
    assert re.fullmatch(r"\d{1,3}(,\d{3})+ hosts in \d+ waves, \d+ batches; \d+ not touched", summary_line(big))
    assert night(big)["offline"] and night_lines(night(big))[0].startswith("inventory is OFFLINE")


def test_the_prompt_shows_the_compact_plan_before_the_question(tmp_path, monkeypatch, capsys):
    plan = _plan(tmp_path / "inv")
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("click.confirm", lambda text, **_: asked.append(capsys.readouterr().err) or True)
    confirm("patch 5 host(s)", yes=False, details=compact_plan(plan))
    shown = asked[0].splitlines()
    assert shown[0] == "canary: 1 host(s) in 1 batch(es)"
    assert any(line.startswith("tst; gates: canary 1") and "window" in line for line in shown)
    assert shown[-1] == "5 hosts in 3 waves, 3 batches; 0 not touched"


def test_yes_shows_nothing_and_asks_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("click.confirm", lambda *a, **k: pytest.fail("asked"))
    confirm("patch", yes=True, details=compact_plan(_plan(tmp_path / "inv")))
    assert capsys.readouterr().err == ""
