"""``--events FILE``: a run as it happens, one JSON object a line, for pipelines.

Every line is ``{"v": 1, "type": ..., "time": ..., "run_id": ...}`` plus the fields of its type
(docs/reference/events.schema.json): run_started, batch_started, host_result (one per host, as its
batch ends), batch_ended, run_ended. Lines are strict JSON (strict_json: ASCII, no NaN): host text
stays data. Written and flushed as things happen; a reader that goes away never stops the run.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from ccops.runner.events import HostOutcome
from ccops.text.output_file import LineStream
from ccops.text.strict_json import dumps

EVENTS_VERSION = 1
EVENT_TYPES = ("run_started", "batch_started", "host_result", "batch_ended", "run_ended")


class EventStream:
    """Where a run's events go; with no target, nowhere."""

    def __init__(self, target: str | None = None, option: str = "--events") -> None:
        self.sink = LineStream(target, option) if target else None
        self.broken = False
        self.lock = threading.Lock()  # sites running side by side emit from their own threads

    @property
    def enabled(self) -> bool:
        return self.sink is not None and not self.broken

    def open(self) -> None:
        """Open the target before the run starts, so an unwritable one stops it before any host is touched."""
        if self.sink is not None:
            self.sink.open()

    def emit(self, kind: str, run_id: str, **fields: Any) -> None:
        if not self.enabled:
            return
        assert kind in EVENT_TYPES  # noqa: S101 (a programming error, never input)
        event = {"v": EVENTS_VERSION, "type": kind, "time": _now(), "run_id": run_id, **fields}
        line = dumps(event, indent=None) + "\n"
        with self.lock:
            assert self.sink is not None  # noqa: S101 (enabled)
            try:
                self.sink.write(line)
            except OSError as exc:  # the reader went away, a full disk: the run goes on, said once
                self.broken = True
                print(f"ccops: --events: stopped writing events ({exc.strerror}); the run goes on", file=sys.stderr)

    def host_results(self, run_id: str, wave: str, batch: int, site: str, outcomes: list[HostOutcome]) -> None:
        for outcome in outcomes:
            self.emit("host_result", run_id, wave=wave, batch=batch, site=site, **outcome.as_record())
        counts = dict(Counter(o.outcome for o in outcomes))
        self.emit("batch_ended", run_id, wave=wave, batch=batch, site=site, outcomes=counts)

    def close(self) -> None:
        if self.sink is not None:
            self.sink.close()


_NOWHERE = EventStream()
_active: ContextVar[EventStream] = ContextVar("ccops_events", default=_NOWHERE)


def active_events() -> EventStream:
    """The stream the command line asked for (--events), else one that writes nothing."""
    return _active.get()


@contextmanager
def events_to(stream: EventStream) -> Iterator[EventStream]:
    token = _active.set(stream)
    try:
        yield stream
    finally:
        _active.reset(token)
        stream.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
