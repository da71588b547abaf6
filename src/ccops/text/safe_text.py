"""Text from hosts and site files made inert for each place ccops shows it.

A host controls every string its modules return, and a site file is edited by
hand: either can hold terminal escapes (clipboard writes, links, title changes,
screen clears), carriage returns that overwrite a line, bidi overrides and
zero-width characters that hide or reorder text, or markup. Such characters are
shown as visible escapes (``\\x1b``, ``\\u202e``), never obeyed; every sink
(terminal, markdown, XML, HTML) starts from :func:`visible`.
"""

from __future__ import annotations

import re
import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


# letters and marks Unicode calls printable that draw nothing: fillers that make hidden text
_BLANK = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u3164\uffa0")


def _shown(char: str) -> bool:
    # printable excludes C0, C1, DEL, format characters (bidi, zero-width), line and paragraph
    # separators, surrogates, private use and unassigned code points; spaces of other widths are harmless
    return (char.isprintable() and char not in _BLANK) or unicodedata.category(char) == "Zs"


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def visible(value: object) -> str:
    """One line of text: every control, format or unassigned character shown as an escape."""
    text = "" if value is None else str(value)
    if text.isprintable() and _BLANK.isdisjoint(text):  # the common case, checked at C speed
        return text
    return "".join(c if _shown(c) else _escape(c) for c in text)


def visible_lines(value: object) -> str:
    """Text of several lines: line breaks (a Windows host's CRLF too) kept, everything else as :func:`visible`."""
    text = "" if value is None else str(value).replace("\r\n", "\n")
    return "\n".join(visible(line) for line in text.split("\n"))


# Markdown a cell could use to end the cell or the row, open an HTML comment or tag, make a link,
# image, code span, emphasis, mention or entity. A dot, dash, plus, tilde or colon stays as it is:
# versions such as 1:2.3~rc1+deb12u1 read as themselves in the comment's source too.
_MARKDOWN = re.compile(
    r"[\\`*\[\]<>&!|@#]"  # always markup somewhere
    r"|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])"  # an underscore inside a word never makes emphasis
    r"|:(?=//)"  # scheme://... is linked bare
    r"|(?<=[Ww]{3})\."  # and so is www.
)


def markdown_cell(value: object) -> str:
    """A value as the text of a markdown table cell (or a line of text): shown as it is, never read as markup."""
    return _MARKDOWN.sub(lambda m: "\\" + m.group(0), visible(value))
