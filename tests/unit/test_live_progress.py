"""The terminal display of a run (ccops.runner.live), rendered by rich into a recording console."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from ccops.runner.live import Board, colour_wanted
from ccops.runner.progress import Progress


def console(width: int = 120) -> Console:
    return Console(
        file=io.StringIO(), record=True, force_terminal=True, width=width, markup=False, emoji=False, highlight=False
    )


def board(total: int | None = None) -> Board:
    shown = Board(console(), animate=False)
    shown.total = total
    return shown


def send(progress: Progress, kind: str, **data: Any) -> None:
    progress({"event": kind, "event_data": data})


def failing_batch(progress: Progress, hosts: dict[str, tuple[str, str]], play: str = "P") -> None:
    """One batch: each host ok, changed, failed (with a message) or unreachable, then Ansible's recap."""
    send(progress, "playbook_on_play_start", uuid=play)
    send(progress, "playbook_on_task_start", task="Install updates")
    stats: dict[str, dict[str, int]] = {"ok": {}, "changed": {}, "failures": {}, "dark": {}}
    for host, (outcome, message) in hosts.items():
        data = {"host": host, "play_uuid": play, "task": "Install updates"}
        if outcome == "failed":
            send(progress, "runner_on_failed", **data, res={"msg": message})
            stats["failures"][host] = 1
        elif outcome == "unreachable":
            send(progress, "runner_on_unreachable", **data, res={"msg": message})
            stats["dark"][host] = 1
        else:
            send(progress, "runner_on_ok", **data, res={"changed": outcome == "changed"})
            stats["ok"][host] = 1
            if outcome == "changed":
                stats["changed"][host] = 1
    send(progress, "playbook_on_stats", **stats)


def test_a_batch_says_where_the_run_is_then_recaps_by_outcome_and_folds_failures_by_reason():
    shown = board(total=10)
    progress = Progress(io.StringIO(), board=shown)
    progress.batch("wave 1", 2, 3, "par", 8)
    failing_batch(
        progress,
        {
            "par-a01": ("ok", ""),
            "par-a02": ("changed", ""),
            **{f"par-b0{n}": ("failed", "E: Could not get lock\ndpkg lock held") for n in range(1, 8)},
            "par-c01": ("unreachable", "no route to host"),
        },
    )
    text = shown.console.export_text()
    lines = text.splitlines()
    assert lines[0] == "wave 1, batch 2/3 at par: 8 host(s) · 0/10 hosts done · 0:00 elapsed"
    assert lines[1] == "  batch 2/3 done in 0:00: 1 ok · 1 changed · 7 failed · 1 unreachable"
    # seven hosts failing for one reason are one line (its last line of message), five of them named
    assert lines[2] == (
        "    FAILED      7 host(s): Install updates: dpkg lock held"
        " (par-b01, par-b02, par-b03, par-b04, par-b05 and 2 more)"
    )
    assert lines[3] == "    UNREACHABLE 1 host(s): no route to host (par-c01)"
    assert len(lines) == 4  # no line per task, none per failing host
    progress.batch("wave 1", 3, 3, "par", 2)
    assert (
        shown.console.export_text().splitlines()[0].startswith("wave 1, batch 3/3 at par: 2 host(s) · 8/10 hosts done")
    )


def test_different_reasons_fold_apart_worst_first_and_hosts_never_reached_are_counted():
    shown = board()
    progress = Progress(io.StringIO(), board=shown)
    progress.batch("canary", 1, 1, "lyo", 4)
    failing_batch(progress, {"lyo-a01": ("failed", "disk full"), "lyo-a02": ("failed", "no space left")})
    lines = shown.console.export_text().splitlines()
    assert lines[0].startswith("canary, batch 1/1 at lyo: 4 host(s) · 0 hosts done · ")  # no total known
    assert lines[1] == "  batch 1/1 done in 0:00: 2 failed · 2 not run"
    assert lines[2:] == [
        "    FAILED      1 host(s): Install updates: disk full (lyo-a01)",
        "    FAILED      1 host(s): Install updates: no space left (lyo-a02)",
    ]


def test_a_refusal_a_host_reports_is_folded_by_its_reason():
    shown = board()
    progress = Progress(io.StringIO(), board=shown)
    progress.batch("canary", 1, 1, "par", 2)
    send(progress, "playbook_on_play_start", uuid="P")
    for host in ("par-a01", "par-a02"):
        report = {"ccops_report": {"outcome": "refused", "reason": "seat busy"}}
        send(progress, "runner_on_ok", host=host, play_uuid="P", res={"ansible_facts": report})
    send(progress, "playbook_on_stats", ok={"par-a01": 1, "par-a02": 1})
    assert shown.console.export_text().splitlines()[1:] == [
        "  batch 1/1 done in 0:00: 2 refused",
        "    REFUSED     2 host(s): seat busy (par-a01, par-a02)",
    ]


@pytest.mark.parametrize("name", ["[bold]x", "[/]", "[red]a[/red]", ":smile:"])
def test_markup_in_what_a_host_sent_prints_as_itself(name):
    shown = board()
    progress = Progress(io.StringIO(), board=shown)
    progress.batch("canary", 1, 1, "[site]", 1)
    failing_batch(progress, {name: ("failed", f"bad [bold]{name}\x1b[2J")})
    progress.say(f"REFUSED 1 host(s): {name}")
    assert "\x1b[2J" not in shown.console.export_text(styles=True, clear=False)  # the host's escape is not sent
    text = shown.console.export_text()
    assert f"Install updates: bad [bold]{name}\\x1b[2J ({name})" in text  # controls shown as escapes, markup literal
    assert f"REFUSED 1 host(s): {name}" in text and "at [site]: 1 host(s)" in text


def test_colour_on_a_terminal_and_none_with_no_color(monkeypatch):
    shown = board()
    progress = Progress(io.StringIO(), board=shown)
    progress.batch("canary", 1, 1, "par", 1)
    failing_batch(progress, {"par-a01": ("failed", "broken")})
    assert "\x1b[1;31mFAILED" in shown.console.export_text(styles=True)
    for env in ({"NO_COLOR": "1", "TERM": "xterm"}, {"TERM": "dumb"}):
        monkeypatch.setattr("os.environ", env)
        assert not colour_wanted()
        stream = Terminal()
        plain = Board.for_terminal(stream)
        assert not plain.animate  # no redrawn status line: it would need cursor movement
        lane = Progress(stream, board=plain)
        lane.batch("canary", 1, 1, "par", 1)
        failing_batch(lane, {"par-a01": ("failed", "broken")})
        assert "FAILED      1 host(s): Install updates: broken (par-a01)" in stream.getvalue()
        assert "\x1b" not in stream.getvalue()
    assert colour_wanted({"TERM": "xterm", "NO_COLOR": ""})  # NO_COLOR set but empty asks for nothing


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_sites_side_by_side_keep_their_lines_apart():
    shown = board(total=4)
    progress = Progress(io.StringIO(), board=shown)
    par, lyo = progress.lane("par"), progress.lane("lyo")
    par.batch("wave 1", 1, 2, "par", 2)
    lyo.batch("wave 1", 2, 2, "lyo", 2)
    # their events interleave, each lane counts its own
    send(par, "playbook_on_play_start", uuid="A")
    send(lyo, "playbook_on_play_start", uuid="B")
    send(lyo, "runner_on_failed", host="lyo-a01", play_uuid="B", task="t", res={"msg": "boom"})
    send(par, "runner_on_ok", host="par-a01", play_uuid="A", res={})
    send(par, "runner_on_ok", host="par-a02", play_uuid="A", res={})
    send(lyo, "runner_on_ok", host="lyo-a02", play_uuid="B", res={})
    send(lyo, "playbook_on_stats", ok={"lyo-a02": 1}, failures={"lyo-a01": 1})
    send(par, "playbook_on_stats", ok={"par-a01": 1, "par-a02": 1})
    lines = shown.console.export_text().splitlines()
    assert [line for line in lines if line.startswith("[lyo] ")][1:] == [
        "[lyo]   batch 2/2 done in 0:00: 1 ok · 1 failed",
        "[lyo]     FAILED      1 host(s): t: boom (lyo-a01)",
    ]
    assert [line for line in lines if line.startswith("[par] ")][1:] == ["[par]   batch 1/2 done in 0:00: 2 ok"]
    assert lines[-1].startswith("[par]") and shown.done == 4


def test_a_batch_refused_before_ansible_ran_gets_no_recap():
    shown = board(total=2)
    progress = Progress(io.StringIO(), board=shown)
    progress.batch("canary", 1, 1, "par", 2)
    progress.say("   REFUSED     2 host(s): maintenance window closed at site par")
    progress.batch("wave 1", 1, 1, "par", 1)
    lines = shown.console.export_text().splitlines()
    assert lines[1] == "   REFUSED     2 host(s): maintenance window closed at site par"
    assert lines[2].startswith("wave 1, batch 1/1 at par: 1 host(s) · 2/2 hosts done")


def test_the_time_left_comes_from_the_run_clock():
    class Clock:
        def left(self) -> float:
            return 130.0

    shown = board(total=3)
    shown.clock = Clock()  # type: ignore[assignment]
    Progress(io.StringIO(), board=shown).batch("canary", 1, 1, "par", 1)
    assert shown.console.export_text().rstrip().endswith("0/3 hosts done · 0:00 elapsed · about 2m10s left")


def test_no_terminal_no_board():
    # a stream given (tests, pipelines) or stderr not a terminal: the plain lines
    assert Progress(io.StringIO()).board is None
    assert Progress(Terminal()).board is None  # only the process's own stderr is drawn on
    assert Progress(enabled=False).board is None


def test_each_run_of_a_command_counts_its_own_hosts():
    shown = board()
    progress = Progress(io.StringIO(), board=shown)
    for _ in range(2):  # a content snapshot runs several playbooks with one display
        shown.begin(3)
        progress.batch("canary", 1, 1, "par", 3)
        progress({"event": "playbook_on_stats", "event_data": {}})
    lines = shown.console.export_text().splitlines()
    assert [line.split(" · ")[1] for line in lines if line.startswith("canary")] == ["0/3 hosts done"] * 2


def test_the_redrawn_status_shows_each_running_batch_its_task_and_results():
    shown = board(total=5)
    progress = Progress(io.StringIO(), board=shown)
    par, lyo = progress.lane("par"), progress.lane("lyo")
    par.batch("canary", 1, 1, "par", 2)
    lyo.batch("canary", 1, 1, "lyo", 3)
    send(par, "playbook_on_task_start", task="Install [bold]updates")
    send(par, "runner_on_ok", host="par-a01", res={})
    shown.console.export_text()  # only the status from here on
    shown.console.print(shown.status())
    assert shown.console.export_text().splitlines() == [
        "[par] ▸ canary 1/1 at par · 1 result(s) · Install [bold]updates · 0/5 hosts done · 0:00 elapsed",
        "[lyo] ▸ canary 1/1 at lyo · 0 result(s) · 0/5 hosts done · 0:00 elapsed",
    ]
    send(par, "playbook_on_stats")
    shown.console.print(shown.status())
    assert [line for line in shown.console.export_text().splitlines() if "▸" in line] == [
        "[lyo] ▸ canary 1/1 at lyo · 0 result(s) · 2/5 hosts done · 0:00 elapsed"
    ]


def test_the_status_line_lives_only_while_a_batch_runs():
    stream = io.StringIO()
    shown = Board(Console(file=stream, force_terminal=True, width=100, markup=False, highlight=False), animate=True)
    progress = Progress(io.StringIO(), board=shown)
    progress.batch("canary", 1, 1, "par", 1)
    assert shown._live is not None and shown._live.is_started
    progress({"event": "playbook_on_stats", "event_data": {}})
    assert shown._live is None  # stopped: the table on stdout never lands beside a status line
    drawn = stream.getvalue()
    assert drawn.rstrip("\n").endswith("batch 1/1 done in 0:00: \x1b[2m1 not run\x1b[0m")  # the recap stays
    assert "\x1b[?25h" in drawn  # and the cursor is shown again
