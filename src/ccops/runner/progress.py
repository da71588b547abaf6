"""A live progress display for people; silent for pipelines.

When stderr is a terminal the run is drawn by ccops.runner.live (rich): where the run is, a recap per
batch, failures folded by reason. Anywhere else (pipelines, CI logs) these plain lines, as they always were.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from ccops.text.safe_text import visible, visible_lines

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.plan.build import Wave
    from ccops.runner.capacity import RunClock
    from ccops.runner.live import Board
    from ccops.store.records import Store


class Progress:
    """Prints one line per finished task and one per failing host, on stderr (a terminal: the live board)."""

    def __init__(
        self, stream: TextIO | None = None, enabled: bool = True, prefix: str = "", clock: RunClock | None = None,
        board: Board | None = None,
    ) -> None:  # fmt: skip
        self.stream = stream or sys.stderr
        if board is None and stream is None and enabled and _terminal(self.stream):
            from ccops.runner.live import Board

            board = Board.for_terminal(self.stream)
        self.board = board  # the terminal display this run's lanes share; None: plain lines
        self.enabled = enabled
        self.prefix = prefix  # sites running side by side tell their lines apart
        self.clock = clock  # the run's time left (ccops.runner.capacity), shared by its lanes
        self._batch: tuple[str, int] | None = None  # the batch this lane runs now
        self._task: str | None = None
        self._counts: dict[str, int] = {}
        self._started = time.monotonic()

    def say(self, text: str) -> None:
        if self.enabled and self.board is not None:
            self.board.line(self.prefix, text)
        elif self.enabled:
            # host names, task names and failure messages reach a live terminal: controls are shown, not obeyed
            print(visible_lines(f"{self.prefix}{text}"), file=self.stream, flush=True)

    def expect(
        self, store: Store, verb: str, waves: list[Wave], done: Iterable[str], inventory: Inventory, forks: int = 25
    ) -> None:
        """Learn how long the run's batches take from the verb's past runs (``forks`` hosts at once at most),
        and say what that adds up to."""
        if not self.enabled:
            return
        from ccops.runner.capacity import RunClock, learn, side_by_side
        from ccops.store.records import StoreError

        if self.board is not None:
            finished = set(done)
            self.board.begin(sum(1 for w in waves for b in w.batches for h in b.hosts if h.name not in finished))

        try:
            model = learn(store, verb)
        except StoreError:
            return  # an estimate is advice: a busy store leaves it out, never the run
        self.clock = RunClock(model, waves, done, side_by_side(inventory), forks=forks)
        if self.board is not None:
            self.board.clock = self.clock
        self.say(f"estimate: {self.clock.estimate.summary()}")

    def batch(self, wave: str, index: int, total: int, site: str, hosts: int) -> None:
        self._end_batch()
        left = ""
        if self.clock is not None:
            self._batch = (wave, index)
            self.clock.start(wave, index)
            left = self._left()
        if self.board is not None and self.enabled:
            from ccops.runner.live import Tally

            self.board.open(self.prefix, Tally(wave, index, total, site, hosts))
            return
        self.say(f"== {wave}, batch {index}/{total}: {hosts} host(s) at {site}{left}")

    def _end_batch(self) -> None:
        if self.clock is not None and self._batch is not None:
            self.clock.finish(*self._batch)
        self._batch = None
        if self.board is not None:
            self.board.close(self.prefix)  # its recap

    def _left(self) -> str:
        """'; about 2m10s left' from elapsed time and the model; empty when the model cannot say."""
        from ccops.runner.capacity import duration

        left = self.clock.left() if self.clock is not None else None
        if left is None or self.clock is None:
            return ""
        return f"; about {duration(left)} left ({duration(self.clock.elapsed())} so far)"

    def __call__(self, event: dict[str, Any]) -> None:
        if self.board is not None:
            self._draw(self.board, event)
            return
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        if kind == "playbook_on_task_start":
            self._flush()
            self._task = data.get("task") or data.get("name")
            self._counts = {}
            self._started = time.monotonic()
        elif kind.startswith("runner_on_") and kind != "runner_on_start":
            outcome = kind.removeprefix("runner_on_")
            if outcome == "ok" and (data.get("res") or {}).get("changed"):
                outcome = "changed"
            self._counts[outcome] = self._counts.get(outcome, 0) + 1
            if outcome in ("failed", "unreachable") and not data.get("ignore_errors"):
                res = data.get("res") or {}
                message = str(res.get("msg") or res.get("stderr") or "").strip().split("\n")
                last = visible(message[-1])[:160]  # the last line says what went wrong; one line, whatever it holds
                self.say(f"   {outcome.upper():<11} {visible(data.get('host'))}: {last}")
        elif kind == "playbook_on_stats":
            self._flush()
            if self._batch is not None:
                self._end_batch()
                if left := self._left():
                    self.say(f"   batch done{left}")

    def _flush(self) -> None:
        if self._task is None or not self._counts:
            return
        counts = " ".join(f"{k}={v}" for k, v in sorted(self._counts.items()))
        self.say(f"   {time.monotonic() - self._started:6.1f}s  {visible(self._task)}: {counts}")
        self._task = None

    def _draw(self, board: Board, event: dict[str, Any]) -> None:
        """An event on the terminal board: counted into this lane's batch, its recap when the batch ends."""
        kind: str = event["event"] if isinstance(event.get("event"), str) else ""
        data: dict[str, Any] = event["event_data"] if isinstance(event.get("event_data"), dict) else {}
        tally = board.running.get(self.prefix)
        if tally is None or not self.enabled:
            return
        if kind == "playbook_on_stats":
            tally.stats(data)
            self._end_batch()
        else:
            tally.event(kind, data)

    def close(self) -> None:
        """The run is over: the terminal's status line goes (plain lines: nothing to do)."""
        if self.board is not None:
            self.board.stop()

    def lane(self, site: str) -> Progress:
        """The display of one site's batches while other sites run beside it."""
        return Progress(self.stream, self.enabled, prefix=f"[{site}] ", clock=self.clock, board=self.board)


def _terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream is no terminal
        return False
