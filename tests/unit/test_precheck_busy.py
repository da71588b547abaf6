"""Busy-seat judging (roles/precheck/filter_plugins/busy.py) on command and uri results as the
real modules return them: a seat service answering {"busy": "no"} is a free seat, not a failure."""

import importlib.util

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location("busy", ROOT / "roles/precheck/filter_plugins/busy.py")
assert _spec and _spec.loader
busy = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(busy)

SKIPPED = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False"}


def _url(answer, status=200):
    return {"status": status, "json": answer, "failed": False}


def test_the_seat_services_yes_and_no_in_words_or_booleans():
    assert busy.seat_busy_reason(SKIPPED, _url({"busy": "no"})) == ""
    assert busy.seat_busy_reason(SKIPPED, _url({"busy": False})) == ""
    assert busy.seat_busy_reason(SKIPPED, _url({"busy": "No "})) == ""
    assert busy.seat_busy_reason(SKIPPED, _url({"busy": "yes"})) == "an agent is using it"
    assert busy.seat_busy_reason(SKIPPED, _url({"busy": True})) == "an agent is using it"


def test_an_answer_that_cannot_be_read_leaves_the_seat_alone_and_says_why():
    assert "not understood ('maybe')" in busy.seat_busy_reason(SKIPPED, _url({"busy": "maybe"}))
    assert "not understood" in busy.seat_busy_reason(SKIPPED, _url(["busy"]))
    assert "not understood" in busy.seat_busy_reason(SKIPPED, _url({"busy": "\x1b]52;c;x\x07"}))
    assert "\x1b" not in busy.seat_busy_reason(SKIPPED, _url({"busy": "\x1b]52;c;x\x07"}))
    assert "did not answer (status 503)" in busy.seat_busy_reason(SKIPPED, {"status": 503, "failed": True})
    assert "did not answer (status -1)" in busy.seat_busy_reason(
        SKIPPED, {"status": -1, "failed": True, "msg": "refused"}
    )


def test_the_busy_command_exit_code_and_a_command_that_could_not_start():
    free = {"rc": 0, "stdout": "", "start": "t", "changed": False}
    assert busy.seat_busy_reason(free, SKIPPED) == ""
    assert (
        busy.seat_busy_reason({"rc": 1, "stdout": "agent 4711 on a call\n", "start": "t"}, SKIPPED)
        == "agent 4711 on a call"
    )
    # win_command on a launch failure: rc set, but it never ran
    assert "could not run" in busy.seat_busy_reason({"rc": 2, "failed": True, "msg": "Failed to run: x"}, SKIPPED)
    assert busy.seat_busy_reason({}, {}) == ""
