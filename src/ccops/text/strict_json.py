"""JSON that every strict parser reads: no NaN or Infinity, whatever a host reported.

Python's json writes ``NaN`` and ``Infinity`` for non-finite floats, which is not
JSON; a host answering ``1e999`` would make ccops's own output unreadable by a
pipeline. Non-finite numbers become null; text is ASCII with escapes, so no
control character reaches a terminal the JSON is printed on.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """The value with every non-finite float (keys included) replaced: null as a value, text as a key."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {_key(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _key(key: Any) -> Any:
    return str(key) if isinstance(key, float) and not math.isfinite(key) else key


def dumps(data: Any, indent: int | None = 2) -> str:
    """The one way ccops writes JSON for people and pipelines (files and standard output)."""
    return json.dumps(finite(data), indent=indent, allow_nan=False, ensure_ascii=True, default=str)
