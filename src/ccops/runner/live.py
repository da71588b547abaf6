"""The run as it happens on a terminal, drawn by rich: where the run is, a recap per batch, failures folded.

Plain lines (ccops.runner.progress) stay the rule whenever stderr is not a terminal. Everything a host
or the inventory said reaches rich as :class:`rich.text.Text` made from :func:`ccops.text.safe_text.visible`:
controls are shown as escapes and markup such as ``[bold]`` prints as itself.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from ccops.text.safe_text import visible, visible_lines

if TYPE_CHECKING:
    from ccops.runner.capacity import RunClock

# a batch's hosts, each in one word; the order a recap reads in
OUTCOMES = ("ok", "changed", "rescued", "failed", "unreachable", "refused", "not run")
STYLES = {
    "ok": "green",
    "changed": "yellow",
    "rescued": "yellow",
    "refused": "cyan",
    "failed": "bold red",
    "unreachable": "bold magenta",
    "not run": "dim",
}
FOLDED = ("failed", "unreachable", "refused")  # outcomes folded by reason below a recap, worst first
NAMES_SHOWN = 5  # a folded failure names this many hosts, then counts the rest
STATUS_REFRESH = 1.0  # times a second the status line (elapsed, time left) is redrawn


def colour_wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Colour and a redrawn status line, unless NO_COLOR (any non-empty value) or a dumb terminal says no."""
    env = os.environ if environ is None else environ
    return env.get("NO_COLOR", "") == "" and env.get("TERM", "").lower() not in ("dumb", "unknown")


def clock_text(seconds: float) -> str:
    """Elapsed time the way a wall clock reads it: 0:07, 12:30, 2:05:09."""
    whole = int(max(seconds, 0))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def last_line(res: dict[str, Any]) -> str:
    """The line of a failure that says what went wrong (its last), made one visible line."""
    message = str(res.get("msg") or res.get("stderr") or "").strip().split("\n")
    return visible(message[-1])[:160]


@dataclass
class Tally:
    """One batch of one lane, counted from the batch's Ansible events."""

    wave: str
    index: int
    total: int
    site: str
    hosts: int
    started: float = field(default_factory=time.monotonic)
    task: str = ""
    results: int = 0  # task results so far: the status line shows the batch moving
    play: Any = None
    in_last_play: set[str] = field(default_factory=set)
    outcome: dict[str, str] = field(default_factory=dict)  # host -> outcome word, once known
    reason: dict[str, str] = field(default_factory=dict)  # host -> why it failed, was unreachable or refused
    ran: bool = False  # any event came: a batch refused before Ansible ran gets no recap

    def event(self, kind: str, data: dict[str, Any]) -> None:
        self.ran = True
        host = data.get("host") if isinstance(data.get("host"), str) else None
        res: dict[str, Any] = data["res"] if isinstance(data.get("res"), dict) else {}
        if kind == "playbook_on_play_start":
            self.play, self.in_last_play = data.get("uuid"), set()
        elif kind == "playbook_on_task_start":
            self.task = visible(data.get("task") or data.get("name") or "")
        elif host is None or not kind.startswith("runner_on_") or kind == "runner_on_start":
            return
        else:
            self.results += 1
            if data.get("play_uuid") == self.play:
                self.in_last_play.add(host)
            task = visible(data.get("task") or self.task)
            if kind == "runner_on_failed" and not data.get("ignore_errors"):
                self._fold(host, "failed", f"{task}: {last_line(res)}" if task else last_line(res))
            elif kind == "runner_on_unreachable":
                self._fold(host, "unreachable", last_line(res))
            elif kind == "runner_on_ok" and (refusal := _refusal(res)) is not None:
                self._fold(host, "refused", refusal)

    def _fold(self, host: str, outcome: str, reason: str) -> None:
        if self.outcome.get(host) not in ("failed", "unreachable"):  # a host's first failure is its reason
            self.outcome[host], self.reason[host] = outcome, reason

    def stats(self, data: dict[str, Any]) -> None:
        """Ansible's recap: every host reached in the batch's last play has an outcome now."""
        self.ran = True

        def named(key: str) -> set[str]:
            value = data.get(key)
            return {h for h in value if isinstance(h, str)} if isinstance(value, dict) else set()

        for host in named("dark"):
            if self.outcome.get(host) != "failed":
                self.outcome[host] = "unreachable"
        for host in named("failures"):
            self.outcome[host] = "failed"
        for host in self.in_last_play - set(self.outcome):
            if host in named("rescued"):
                self.outcome[host] = "rescued"
            elif host in named("changed"):
                self.outcome[host] = "changed"
            else:
                self.outcome[host] = "ok"

    def counts(self) -> Counter[str]:
        counts = Counter(self.outcome.values())
        missing = self.hosts - sum(counts.values())
        if missing > 0:
            counts["not run"] = missing
        return counts

    def folded(self) -> list[tuple[str, str, list[str]]]:
        """(outcome, reason, hosts) for every reason hosts failed, were unreachable or refused; most hosts first."""
        groups: dict[tuple[str, str], list[str]] = {}
        for host, outcome in self.outcome.items():
            if outcome in FOLDED:
                groups.setdefault((outcome, self.reason.get(host, "")), []).append(host)
        order = sorted(groups.items(), key=lambda item: (FOLDED.index(item[0][0]), -len(item[1]), item[0][1]))
        return [(outcome, reason, sorted(hosts)) for (outcome, reason), hosts in order]


def _refusal(res: dict[str, Any]) -> str | None:
    """A host's own refusal (its ccops_report says refused, and why), or None."""
    facts = res.get("ansible_facts")
    report = facts.get("ccops_report") if isinstance(facts, dict) else None
    if not isinstance(report, dict) or report.get("outcome") != "refused":
        return None
    return visible(report.get("reason") or "refused")[:160]


class Board:
    """The terminal display a run's lanes share: lines that stay, above one status line per running batch."""

    def __init__(self, console: Console, animate: bool) -> None:
        self.console = console
        self.animate = animate  # a redrawn status line (cursor movement): never with NO_COLOR or TERM=dumb
        self.lock = threading.RLock()
        self.running: dict[str, Tally] = {}  # lane prefix -> the batch it runs now
        self.total: int | None = None  # hosts this run has to do, once known
        self.done = 0
        self.started = time.monotonic()
        self.clock: RunClock | None = None
        self._live: Live | None = None

    @classmethod
    def for_terminal(cls, stream: TextIO) -> Board:
        colour = colour_wanted()
        console = Console(
            file=stream,
            force_terminal=colour,
            color_system="auto" if colour else None,
            no_color=not colour,
            markup=False,
            emoji=False,
            highlight=False,
        )
        board = cls(console, animate=colour)
        atexit.register(board.stop)  # a run that ended in an error leaves no status line behind
        return board

    def begin(self, total: int) -> None:
        """A run starts (one command may run several, as a content snapshot does): its hosts counted anew."""
        with self.lock:
            self.total, self.done, self.started = total, 0, time.monotonic()

    # -- lines that stay ---------------------------------------------------------------------------------

    def line(self, prefix: str, text: str | Text) -> None:
        shown = Text(visible_lines(text), end="") if isinstance(text, str) else text
        self.console.print(Text.assemble(Text(visible(prefix)), shown))

    def open(self, prefix: str, tally: Tally) -> None:
        with self.lock:
            self.running[prefix] = tally
            self.line(prefix, self.position(tally))
            if self.animate and self._live is None:
                self._live = Live(
                    console=self.console,
                    get_renderable=self.status,
                    refresh_per_second=STATUS_REFRESH,
                    transient=True,
                    redirect_stdout=False,  # stdout may be a file: it never receives the display
                    redirect_stderr=True,  # warnings written meanwhile go above the status line
                )
                self._live.start()

    def close(self, prefix: str) -> None:
        with self.lock:
            tally = self.running.pop(prefix, None)
            if tally is None:
                return
            self.done += tally.hosts
            if not self.running:
                self.stop()
            elif self._live is not None:
                self._live.refresh()  # the finished batch's status line goes now, not at the next redraw
            if tally.ran:
                for text in recap(tally, time.monotonic() - tally.started):
                    self.line(prefix, text)

    def stop(self) -> None:
        with self.lock:
            live, self._live = self._live, None
        if live is not None:
            live.stop()

    # -- what it says ------------------------------------------------------------------------------------

    def where(self) -> Text:
        """Hosts done of total, elapsed, and the time left from this site's past runs when they tell."""
        from ccops.runner.capacity import duration

        done = f"{self.done}/{self.total} hosts done" if self.total is not None else f"{self.done} hosts done"
        text = Text(f"{done} · {clock_text(time.monotonic() - self.started)} elapsed")
        left = self.clock.left() if self.clock is not None else None
        if left is not None:
            text.append(f" · about {duration(left)} left")
        return text

    def position(self, tally: Tally) -> Text:
        head = Text(f"{visible(tally.wave)}, batch {tally.index}/{tally.total}", style="bold")
        return Text.assemble(head, f" at {visible(tally.site)}: {tally.hosts} host(s) · ", self.where())

    def status(self) -> Group:
        """The redrawn lines: one per running batch (sites side by side each have theirs)."""
        lines = []
        for prefix, tally in tuple(self.running.items()):  # read without the lock: rich redraws on its thread
            text = Text.assemble(
                Text(visible(prefix)),
                Text(f"▸ {visible(tally.wave)} {tally.index}/{tally.total} at {visible(tally.site)}", style="bold"),
                f" · {tally.results} result(s)",
                f" · {tally.task}" if tally.task else "",
                " · ",
                self.where(),
                no_wrap=True,
                overflow="ellipsis",
            )
            lines.append(text)
        return Group(*lines)


def recap(tally: Tally, seconds: float) -> list[Text]:
    """A batch in a few lines: its hosts counted by outcome, then one line per reason hosts did not succeed."""
    counts = tally.counts()
    parts: list[str | tuple[str, str] | Text] = [f"  batch {tally.index}/{tally.total} done in {clock_text(seconds)}: "]
    said = [(f"{counts[o]} {o}", STYLES[o]) for o in OUTCOMES if counts[o]]
    for n, piece in enumerate(said or [("no hosts", "dim")]):
        parts += [" · "] * (n > 0) + [piece]
    lines = [Text.assemble(*parts)]
    for outcome, reason, hosts in tally.folded():
        names = ", ".join(visible(h) for h in hosts[:NAMES_SHOWN])
        more = f" and {len(hosts) - NAMES_SHOWN} more" if len(hosts) > NAMES_SHOWN else ""
        lines.append(
            Text.assemble(
                "    ",
                (f"{outcome.upper():<11}", STYLES[outcome]),
                f" {len(hosts)} host(s): ",
                reason or "(no message)",
                f" ({names}{more})",
            )
        )
    return lines
