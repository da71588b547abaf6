"""A node's job journal (node/ccops_node.py ``collect``): one JSON document a line, sent by the node.

Event lines go to the event collector, which parses each host's report; the closing
``ccops_done`` line says how the job ended. A line that is not a JSON mapping is skipped.
"""

from __future__ import annotations

import json
from typing import Any

from ccops.hostdata.kinds import Free, Int, MapOf, Record, Text, parse

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


# node/ccops_node.py ``preflight``: what the node runs (compared with this jump host's pins)
PREFLIGHT = Record(
    {
        "ansible_core": Text(64, nullable=True),
        "ansible_runner": Text(64, nullable=True),
        "collections": MapOf(Text(64), max_items=200),
        "helper": Text(128, nullable=True),
        "error": Text(1024, nullable=True),
        "ccops_error": Text(1024, nullable=True),
    },
    extra=Free(depth=3),
)


def node_answer(out: str) -> dict[str, Any]:
    """The last line a node's preflight printed, in its declared shape; one that is no such mapping says so."""
    lines = out.strip().splitlines()
    data = journal_line(lines[-1]) if lines else None
    if data is None:
        return {"error": "its answer was not a JSON mapping"}
    clean, damaged = parse(PREFLIGHT, data)
    if not isinstance(clean, dict) or damaged:
        return {"error": "its answer did not fit: " + "; ".join(damaged[:3])}
    return clean
