"""A fleet's table is checked for controls at once, yet a single hostile cell is still shown, never obeyed."""

from __future__ import annotations

import pytest

from ccops.cli.output import echo, table
from ccops.text.safe_text import visible, visible_lines

HOSTILE = ["\x1b]52;c;AAAA\x07", "a\rb", "bidi\u202e", "zero\u200bwidth", "tab\tx", "line\nbreak", "\u3164"]


@pytest.mark.parametrize("bad", HOSTILE)
def test_one_hostile_cell_among_many_is_shown_as_escapes(bad):
    rows = [[f"h{i:05}", "site", None, 3] for i in range(2000)]
    rows[1234][2] = bad
    text = table(rows, ["HOST", "SITE", "NOTE", "N"])
    expected = [[visible(c) for c in ["HOST", "SITE", "NOTE", "N"]]] + [
        ["" if c is None else visible(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in expected) for i in range(4)]
    assert text == "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in expected)
    assert visible(bad) in text and bad not in text


@pytest.mark.parametrize("bad", HOSTILE)
def test_echo_shows_what_visible_lines_shows(bad, capsys):
    message = "\n".join(["plain line"] * 500 + [f"x{bad}y"])
    echo(message)
    assert capsys.readouterr().out == visible_lines(message) + "\n"
    echo("clean\nlines")
    assert capsys.readouterr().out == "clean\nlines\n"
