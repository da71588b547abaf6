"""Host ranges: ``nj-a-t[0001:1200]`` expands to 1,200 names, and back.

The zero padding of the start number sets the width, as in Ansible's own
range syntax, so ranges in ccops and in stock Ansible read the same way.
"""

from __future__ import annotations

import re
from itertools import groupby

_BRACKET = re.compile(r"\[(\d+):(\d+)\]")
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)(\D*)$")


class RangeError(ValueError):
    pass


def expand(pattern: str) -> list[str]:
    """All names a pattern stands for; a pattern without brackets is one name."""
    match = _BRACKET.search(pattern)
    if not match:
        if "[" in pattern or "]" in pattern:
            raise RangeError(f"{pattern!r}: a range is written [START:END], e.g. t[0001:0100]")
        return [pattern]
    start_text, end_text = match.groups()
    start, end = int(start_text), int(end_text)
    if start > end:
        raise RangeError(f"{pattern!r}: range start {start_text} is after its end {end_text}")
    width = len(start_text) if start_text.startswith("0") else 0
    head, tail = pattern[: match.start()], pattern[match.end() :]
    tails = expand(tail)
    return [f"{head}{n:0{width}d}{rest}" for n in range(start, end + 1) for rest in tails]


def compress(names: list[str]) -> list[str]:
    """Shortest range patterns covering ``names`` (order of first appearance kept)."""
    # (text before the number, text after it, digits, number or -1 if none, name)
    parsed: list[tuple[str, str, int, int, str]] = []
    for name in names:
        match = _TRAILING_NUMBER.match(name)
        if match:
            head, digits, tail = match.groups()
            parsed.append((head, tail, len(digits), int(digits), name))
        else:
            parsed.append((name, "", 0, -1, name))
    parsed.sort(key=lambda p: (p[0], p[1], p[2], p[3]))
    out: list[str] = []
    for (head, tail, width), items in groupby(parsed, key=lambda p: (p[0], p[1], p[2])):
        run: list[tuple[str, str, int, int, str]] = []
        for item in items:
            if item[3] < 0:
                out.append(item[4])
                continue
            if run and item[3] != run[-1][3] + 1:
                out.append(_render(head, tail, width, run))
                run = []
            run.append(item)
        if run:
            out.append(_render(head, tail, width, run))
    return out


def _render(head: str, tail: str, width: int, run: list[tuple[str, str, int, int, str]]) -> str:
    if len(run) == 1:
        return run[0][4]
    first, last = run[0][3], run[-1][3]
    return f"{head}[{first:0{width}d}:{last:0{width}d}]{tail}"


def count(pattern: str) -> int:
    """How many names ``pattern`` stands for, without expanding it."""
    total = 1
    for start, end in _BRACKET.findall(pattern):
        total *= max(int(end) - int(start) + 1, 0)
    return total
