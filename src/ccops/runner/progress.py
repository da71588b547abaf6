"""A live progress display for people; silent for pipelines."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from ccops.safe_text import visible, visible_lines


class Progress:
    """Prints one line per finished task and one per failing host, on stderr."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True, prefix: str = "") -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.prefix = prefix  # sites running side by side tell their lines apart
        self._task: str | None = None
        self._counts: dict[str, int] = {}
        self._started = time.monotonic()

    def say(self, text: str) -> None:
        if self.enabled:
            # host names, task names and failure messages reach a live terminal: controls are shown, not obeyed
            print(visible_lines(f"{self.prefix}{text}"), file=self.stream, flush=True)

    def batch(self, wave: str, index: int, total: int, site: str, hosts: int) -> None:
        self.say(f"== {wave}, batch {index}/{total}: {hosts} host(s) at {site}")

    def __call__(self, event: dict[str, Any]) -> None:
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

    def _flush(self) -> None:
        if self._task is None or not self._counts:
            return
        counts = " ".join(f"{k}={v}" for k, v in sorted(self._counts.items()))
        self.say(f"   {time.monotonic() - self._started:6.1f}s  {visible(self._task)}: {counts}")
        self._task = None

    def lane(self, site: str) -> Progress:
        """The display of one site's batches while other sites run beside it."""
        return Progress(self.stream, self.enabled, prefix=f"[{site}] ")
