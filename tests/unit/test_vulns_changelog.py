"""A changelog reads as entries (version, urgency, CVE ids) or as damaged: never a crash, never a guess."""

import pytest

from ccops.vulns.changelog import ChangelogDamaged, parse
from tests.vulns_debs import changelog


def test_entries_name_their_versions_urgencies_and_cves():
    text = changelog(
        "openssl",
        [
            ("3.0.15-1~deb12u1", "high", ["CVE-2024-5535", "CVE-2024-9143"]),
            ("3.0.14-1~deb12u2", "medium", ["CVE-2024-6119"]),
            ("3.0.14-1~deb12u1", "low", []),
        ],
    )
    entries = parse(text)
    assert [(e.source, e.version, e.urgency, e.cves) for e in entries] == [
        ("openssl", "3.0.15-1~deb12u1", "high", ("CVE-2024-5535", "CVE-2024-9143")),
        ("openssl", "3.0.14-1~deb12u2", "medium", ("CVE-2024-6119",)),
        ("openssl", "3.0.14-1~deb12u1", "low", ()),
    ]


def test_real_header_forms_read():
    text = (
        "glibc (2.36-9+deb12u4) bookworm-security; urgency=medium, binary-only=yes\n\n"
        "  * Fix CVE-2023-6246 (and not XCVE-2023-1111 or CVE-2023-22222x).\n\n -- M <m@x>  date\n\n"
        "glibc (1:2.1-1) unstable frozen; urgency=LOW (HIGH for 2.2 users)\n\n  * old.\n\n -- M <m@x>  date\n\n"
        "Local variables:\nmode: debian-changelog\nEnd:\n  CVE-2020-0001 in the trailer is not an entry's\n"
    )
    entries = parse(text)
    assert [(e.version, e.urgency, e.cves) for e in entries] == [
        ("2.36-9+deb12u4", "medium", ("CVE-2023-6246",)),
        ("1:2.1-1", "low", ()),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\x7fELF\x02\x01\x01\x00binary",
        "openssl 3.0.15-1 bookworm; urgency=high\n",  # no parentheses
        "openssl (3.0.15-1) bookworm; urgency=urgent\n",  # not one of Debian's five
        "openssl (3.0.15-1) bookworm; priority=high\n",  # no urgency
        "openssl (not a version!) bookworm; urgency=high\n",
        "openssl (3.0.15-1) bookworm; urgency=high\n  * \x00\n",
        "  * text before any header\nopenssl (1-1) bookworm; urgency=low\n",
        "Openssl (1-1) bookworm; urgency=low\n",  # source names are lower case
        "openssl (1-1) bookworm; urgency=low\x1b]52;c;ZXZpbA==\x07\n",  # an escape in the header
    ],
)
def test_odd_changelogs_are_damaged(text):
    with pytest.raises(ChangelogDamaged):
        parse(text)


def test_markup_and_controls_in_text_yield_only_cve_ids():
    text = (
        "curl (7.88.1-10+deb12u8) bookworm-security; urgency=high\n\n"
        '  * <script>alert(1)</script> | `rm -rf` \x1b]52;c;ZXZpbA==\x07 =HYPERLINK("x") CVE-2024-7264\n'
        "  * \u202eCVE-2024-2398 reversed\n\n -- M <m@x>  date\n"
    )
    assert parse(text)[0].cves == ("CVE-2024-7264", "CVE-2024-2398")


def test_a_flood_of_cve_ids_in_one_entry_is_damaged():
    ids = "".join(f"  * CVE-2024-{n:05d}\n" for n in range(10000, 16000))
    with pytest.raises(ChangelogDamaged, match="more than"):
        parse(f"x (1-1) sid; urgency=low\n\n{ids}")
