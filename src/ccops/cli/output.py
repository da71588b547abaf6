"""Printing for people (tables, lines) and pipelines (JSON); output files named on the command line.

Everything a command prints goes through here: hosts and site files control much
of it, so no control character, escape sequence or bidi override reaches the
terminal as itself (ccops.safe_text), piped or not.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

from ccops import strict_json
from ccops.output_file import STDOUT, check_target
from ccops.safe_text import visible, visible_lines


def echo(message: object = "", err: bool = False, nl: bool = True) -> None:
    """click.echo for text that may hold host or site data: line breaks kept, every other control shown."""
    click.echo(visible_lines("" if message is None else message), err=err, nl=nl)


def emit_json(data: Any) -> None:
    click.echo(strict_json.dumps(data))  # ASCII, strict: no control character and no NaN reaches a pipeline


def table(rows: list[list[Any]], headers: list[str]) -> str:
    """Aligned columns; a cell is one line whatever it holds (newlines and escapes shown, not obeyed)."""
    cells = [[visible(c) for c in headers], *[[("" if c is None else visible(c)) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells)


def _seconds(value: object) -> float | None:
    """A number of seconds a record holds, or None: text, a bool, NaN or infinity read as unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def uptime(value: object) -> str:
    seconds = _seconds(value)
    if seconds is None:
        return "-"
    days, rest = divmod(int(seconds), 86400)
    return f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"


def duration(value: object) -> str:
    """51s, 3m 05s, 1h 02m: a host's or a wave's time as an operator reads it."""
    seconds = _seconds(value)
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def utc_time(value: object) -> str:
    """An ISO time from a record or manifest, shown with its zone (naive times are UTC in ccops)."""
    from datetime import UTC, datetime

    if not isinstance(value, str) or not value:
        return "-"
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    return when.strftime("%Y-%m-%d %H:%M:%SZ")


class OutputTarget(click.ParamType["str | Path"]):
    """A file option's value: ``-`` (standard output) or a path whose folder exists, checked before any work."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str | Path:
        if isinstance(value, Path) or value != STDOUT:
            check_target(value, param.opts[-1] if param else "output")
            return Path(value)
        return STDOUT


def written(target: str | Path, what: str) -> None:
    """Where a file went, on stderr (nothing for standard output: the content is the answer)."""
    if str(target) != STDOUT:
        echo(f"{what} written to {target}", err=True)
