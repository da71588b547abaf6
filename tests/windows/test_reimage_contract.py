"""Contract test: ccops reimage on a modelled Windows seat is refused in one line before any
call reaches the seat (issue 20, W7: the Windows re-image path could never run, so it was
removed; docs/explanation/windows.md, Windows limits)."""

from __future__ import annotations

from tests.windows import harness


def test_a_windows_seat_sent_to_reimage_is_refused_before_anything_reaches_it(tmp_path):
    run = harness.run_contract(tmp_path, "reimage.yml", "reimage", {"seat": (harness.seat_state(), {})})["seat"]
    assert run.outcome() == "failed"
    assert "ccops does not re-image Windows seats" in run.failure()
    assert run.calls == []
