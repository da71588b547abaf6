"""Printing for people (tables, lines) and pipelines (JSON); output files named on the command line.

Everything a command prints goes through here: hosts and site files control much
of it, so no control character, escape sequence or bidi override reaches the
terminal as itself (ccops.text.safe_text), piped or not.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

import click

from ccops.inventory.layered import Layered
from ccops.text.output_file import STDOUT, check_target
from ccops.text.safe_text import visible, visible_lines


def echo(message: object = "", err: bool = False, nl: bool = True) -> None:
    """click.echo for text that may hold host or site data: line breaks kept, every other control shown."""
    text = "" if message is None else str(message)
    click.echo(text if _inert(text.replace("\n", "")) else visible_lines(text), err=err, nl=nl)


def _inert(text: str) -> bool:
    """Nothing in ``text`` that visible() would change (checked once for a whole table, not per cell)."""
    return visible(text) == text


# Every JSON document a command prints is one envelope (docs/reference/json-output.md):
#   {"schema": "ccops/<command>/<major>", "ccops": "<version>", "data": <the command's answer>}
# <command> is the command's words joined by "-" (runs-list, software-apply); its schema is
# docs/reference/schemas/<command>.schema.json. A change a pipeline must notice (a key renamed,
# removed or retyped) raises that command's major here; added keys do not.
# inventory-list 2: a site's shared variables moved from each host's _meta.hostvars to its group's vars
SCHEMA_MAJOR: dict[str, int] = {"inventory-list": 2}
FIRST_MAJOR = 1


def schema_name(command_path: str) -> str:
    """``ccops runs list`` -> ``runs-list``: the name of the command's JSON schema."""
    return "-".join(command_path.split()[1:])


def schema_id(name: str) -> str:
    return f"ccops/{name}/{SCHEMA_MAJOR.get(name, FIRST_MAJOR)}"


def envelope(data: Any, name: str) -> dict[str, Any]:
    from ccops import __version__

    return {"schema": schema_id(name), "ccops": __version__, "data": data}


def current_schema() -> str:
    """The running command's schema name (emit_json is always called inside a ccops command).

    From the command's own words, whatever the program was called (ccops, python -m ...).
    """
    words: list[str] = []
    ctx: click.Context | None = click.get_current_context()
    while ctx is not None and ctx.parent is not None:
        words.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    return schema_name(" ".join(["ccops", *words]))


def emit_json(data: Any, name: str | None = None) -> None:
    """``data`` in the envelope of the running command (or of ``name``) on stdout.

    ASCII, strict: no control character and no NaN reaches a pipeline (exactly
    strict_json.dumps's text), written as it is made: a fleet's document is never held
    twice, as text and as the bytes written.
    """
    buffered: list[str] = []
    size = 0
    for piece in _Writer().pieces(envelope(data, name or current_schema()), 0):
        buffered.append(piece)
        size += len(piece)
        if size > 1 << 20:
            click.echo("".join(buffered), nl=False)
            buffered, size = [], 0
    click.echo("".join(buffered))


def indented_json(data: Any) -> str:
    """strict_json.dumps(data), character for character, at fleet size.

    Python's indenting encoder is pure Python: 32,000 hosts' variables took seconds. Here
    text goes through json's C escaper, a list or dict met again (every host of a site
    shares its site's variables) is written once per depth, and so is a shared layer of a
    Layered dict (ccops.inventory.layered).
    """
    return _Writer().text(data, 0)


SHARED_AT_MOST = 256  # larger lists and dicts are not looked for again (a host's variables are far smaller)


class _Writer:
    def __init__(self) -> None:
        self.seen: dict[tuple[int, int], tuple[str, object]] = {}  # (id, depth) -> text, and the object kept alive
        self.prefixes: dict[int, dict[str, str]] = {}  # depth -> text key -> its line start: a fleet has few keys

    def text(self, value: Any, depth: int) -> str:
        if type(value) is str:
            return encode_basestring_ascii(value)
        if isinstance(value, str):
            return encode_basestring_ascii(str.__str__(value))
        if value is None or isinstance(value, bool | int | float):
            return _scalar(value)
        if isinstance(value, dict | list | tuple):
            if len(value) > SHARED_AT_MOST or isinstance(value, Layered):  # one host's, or fleet-wide: met once
                return self.container(value, depth)
            key = (id(value), depth)
            if key not in self.seen:
                self.seen[key] = (self.container(value, depth), value)
            return self.seen[key][0]
        return encode_basestring_ascii(str(value))  # strict_json's default=str

    def pieces(self, value: Any, depth: int) -> Iterator[str]:
        """The text of ``value`` in pieces: the document's outer levels and any large table entry by entry."""
        if not isinstance(value, dict | list | tuple) or not value or isinstance(value, Layered):
            yield self.text(value, depth)
            return
        if (depth >= 2 and len(value) <= SHARED_AT_MOST and not _holds_large(value)) or (
            not isinstance(value, dict) and all(type(item) is str for item in value)
        ):
            yield self.text(value, depth)  # a host's variables, or a group's host names (joined in C)
            return
        if isinstance(value, dict) and not all(type(k) is str for k in value):
            yield self.text(value, depth)  # keys named as strict_json names them: the whole-dict path
            return
        inside = "\n" + "  " * (depth + 1)
        items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
        sub = depth + 1
        for n, (key, item) in enumerate(items):
            start = (("{" if isinstance(value, dict) else "[") if n == 0 else ",") + (
                inside if key is None else inside + _key(key) + ": "
            )
            if isinstance(item, Layered) or not isinstance(item, dict | list | tuple):  # one piece: a host's entry
                yield start + self.text(item, sub)
                continue
            yield start
            yield from self.pieces(item, sub)
        yield "\n" + "  " * depth + ("}" if isinstance(value, dict) else "]")

    def container(self, value: dict[Any, Any] | list[Any] | tuple[Any, ...], depth: int) -> str:
        if not value:
            return "{}" if isinstance(value, dict) else "[]"
        close = "\n" + "  " * depth
        if isinstance(value, Layered) and len(value) == sum(map(len, value.layers)):  # its layers, unchanged
            own = value.own
            texts = [
                (self._entries(layer, depth) if n == own else self.entries(layer, depth))
                for n, layer in enumerate(value.layers)
                if layer
            ]
            return "{" + ",".join(texts) + close + "}"
        if isinstance(value, dict):
            return "{" + self.entries(value, depth) + close + "}"
        inside = close + "  "
        sub = depth + 1
        if all(type(item) is str for item in value):  # a group's host names: all in C
            return "[" + inside + ("," + inside).join(map(encode_basestring_ascii, value)) + close + "]"
        return "[" + inside + ("," + inside).join([self.text(item, sub) for item in value]) + close + "]"

    def entries(self, value: dict[Any, Any], depth: int) -> str:
        """A dict's entries without its braces (a layer's are written once, then reused)."""
        if len(value) > SHARED_AT_MOST:
            return self._entries(value, depth)
        key = (id(value), -1 - depth)
        if key not in self.seen:
            self.seen[key] = (self._entries(value, depth), value)
        return self.seen[key][0]

    def _entries(self, value: dict[Any, Any], depth: int) -> str:
        prefixes = self.prefixes.get(depth)
        if prefixes is None:
            prefixes = self.prefixes[depth] = {}
        sub = depth + 1
        parts = []
        for k, v in value.items():
            prefix = prefixes.get(k) if type(k) is str else None  # (1, 1.0 and True are one dict key)
            if prefix is None:
                if type(k) is not str:
                    return self._mixed_entries(value, depth)
                prefix = prefixes[k] = "\n" + "  " * sub + encode_basestring_ascii(k) + ": "
            parts.append(prefix + (encode_basestring_ascii(v) if type(v) is str else self.text(v, sub)))
        return ",".join(parts)

    def _mixed_entries(self, value: dict[Any, Any], depth: int) -> str:
        """Entries whose keys are not all text, named as strict_json names them."""
        # a non-finite float key becomes text first (it may then meet the same text key)
        value = {str(k) if isinstance(k, float) and not math.isfinite(k) else k: v for k, v in value.items()}
        inside = "\n" + "  " * (depth + 1)
        sub = depth + 1
        return ",".join([inside + _key(k) + ": " + self.text(v, sub) for k, v in value.items()])


def _holds_large(value: dict[Any, Any] | list[Any] | tuple[Any, ...]) -> bool:
    """Whether a small container holds a large one (the inventory's {"hostvars": {32,000 hosts}}): that one is
    written in pieces, never as one text."""
    items = value.values() if isinstance(value, dict) else value
    return any(isinstance(item, dict | list | tuple) and len(item) > SHARED_AT_MOST for item in items)


def _scalar(value: bool | int | float | None) -> str:
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        return int.__repr__(value)
    return float.__repr__(value) if math.isfinite(value) else "null"


def _key(key: Any) -> str:
    """A key as json writes it: text as is, numbers and constants as their JSON text, quoted."""
    if isinstance(key, str):
        return encode_basestring_ascii(key)
    if key is None or isinstance(key, bool | int | float):
        return encode_basestring_ascii(_scalar(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def table(rows: list[list[Any]], headers: list[str]) -> str:
    """Aligned columns; a cell is one line whatever it holds (newlines and escapes shown, not obeyed)."""
    cells = [list(map(str, headers)), *[[("" if c is None else str(c)) for c in row] for row in rows]]
    if not _inert("".join(["".join(row) for row in cells])):  # a fleet's table is checked at once, in C
        cells = [[visible(c) for c in row] for row in cells]
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
