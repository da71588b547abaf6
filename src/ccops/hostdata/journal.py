"""A node's job journal (node/ccops_node.py ``collect``): one JSON document a line, sent by the node.

Event lines go to the event collector, which parses each host's report; the closing
``ccops_done`` line says how the job ended. A line that is not a JSON mapping is skipped.
"""

from __future__ import annotations

import json
from typing import Any

from ccops.hostdata.kinds import Free, Int, Record, Text, parse

DONE = Record(
    {"status": Text(64), "rc": Int(-(2**31), 2**31, nullable=True), "why": Text(2048, nullable=True)},
    extra=Free(depth=3),
)


def journal_line(line: str) -> dict[str, Any] | None:
    """One line of the journal as a mapping, or None when it is not one (skipped, never a crash)."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def journal_done(value: Any) -> dict[str, Any]:
    """The job's closing document in its declared shape ({} when it did not fit at all)."""
    clean, _ = parse(DONE, value)
    return clean if isinstance(clean, dict) else {}
