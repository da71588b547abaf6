"""A Debian changelog (``changelog.Debian.gz``) as entries: version, urgency and the CVEs each names.

An entry starts with ``source (version) dist [dist...]; urgency=U[, key=value...]`` at the
start of a line; its text lines are indented and it ends with `` -- maintainer  date``. The
text is never shown, only the CVE ids found in it. A first line that is not such a header,
a version dpkg would refuse, an urgency outside Debian's five, or a NUL byte makes the whole
changelog damaged. A later unindented line that is no header ends the parse: old changelogs
end in history of another format (``Local variables:``, ``Old Changelog:``), older than any
installed version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ccops.report.reverted import BadVersion, compare

URGENCIES = ("low", "medium", "high", "emergency", "critical")
CVE_ID = re.compile(r"CVE-[0-9]{4}-[0-9]{4,7}")
_CVE_IN_TEXT = re.compile(r"(?<![A-Za-z0-9-])CVE-[0-9]{4}-[0-9]{4,7}(?![A-Za-z0-9])")
_HEADER = re.compile(
    r"(?P<source>[a-z0-9][a-z0-9+.-]{0,127}) \((?P<version>[^\s()]{1,256})\)"
    r"(?P<dists>(?: [A-Za-z0-9][A-Za-z0-9+./_-]{0,63}){1,8}); (?P<fields>[^;]{1,512})"
)
_FIELD = re.compile(r"\s*(?P<key>[A-Za-z][A-Za-z0-9-]{0,63})=(?P<value>[^,]*?)\s*")
_URGENCY = re.compile(r"(?P<word>[A-Za-z]+)(?: \([^()]{0,200}\))?")  # a comment may follow: "low (HIGH for x)"
MAX_ENTRIES = 20_000
MAX_CVES_PER_ENTRY = 5_000


class ChangelogDamaged(ValueError):
    """The changelog does not read as Debian's format: its package's vulnerability data is not used."""


@dataclass(frozen=True)
class Entry:
    source: str
    version: str
    urgency: str
    cves: tuple[str, ...]


def parse(text: str) -> list[Entry]:
    """Entries newest first (as written); ChangelogDamaged names the line that does not fit."""
    if "\x00" in text:
        raise ChangelogDamaged("holds NUL bytes: not a text changelog")
    entries: list[Entry] = []
    current: tuple[str, str, str] | None = None
    cves: dict[str, None] = {}
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if line[0] in " \t":
            _text_line(line, number, current is not None, cves)
            continue
        header = _header(line, number)
        if header is None:
            if current is None:
                raise ChangelogDamaged(f"line {number}: not a changelog entry's header")
            break  # older history in another format
        if current is not None:
            entries.append(Entry(*current, tuple(cves)))
        if len(entries) >= MAX_ENTRIES:
            raise ChangelogDamaged(f"more than {MAX_ENTRIES} entries")
        current, cves = header, {}
    if current is None:
        raise ChangelogDamaged("no entry")
    entries.append(Entry(*current, tuple(cves)))
    return entries


def _text_line(line: str, number: int, in_entry: bool, cves: dict[str, None]) -> None:
    if not in_entry:
        raise ChangelogDamaged(f"line {number}: text before the first entry's header")
    for cve in _CVE_IN_TEXT.findall(line):
        cves[cve] = None
    if len(cves) > MAX_CVES_PER_ENTRY:
        raise ChangelogDamaged(f"line {number}: more than {MAX_CVES_PER_ENTRY} CVE ids in one entry")


def _header(line: str, number: int) -> tuple[str, str, str] | None:
    """(source, version, urgency) of a header line; None for a line that is no header at all."""
    match = _HEADER.fullmatch(line.rstrip())
    if match is None:
        return None
    version = match["version"]
    try:
        compare(version, version)
    except BadVersion:
        raise ChangelogDamaged(f"line {number}: not a Debian version in the header") from None
    fields = {}
    for part in match["fields"].split(","):
        field = _FIELD.fullmatch(part)
        if field is None:
            raise ChangelogDamaged(f"line {number}: not a key=value field after ';'")
        fields[field["key"].lower()] = field["value"]
    urgency = _URGENCY.fullmatch(fields.get("urgency", ""))
    if urgency is None or urgency["word"].lower() not in URGENCIES:
        raise ChangelogDamaged(f"line {number}: urgency is none of {', '.join(URGENCIES)}")
    return match["source"], version, urgency["word"].lower()
