"""The HTML report rendered in headless Chromium: a screenshot that is not blank, with the plots drawn,
and every number on the rendered page equal to the JSON report's."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any

import pytest

from tests import chromium
from tests.cli.test_report import EVIL, fleet
from tests.json_output import payload

pytestmark = pytest.mark.skipif(
    chromium.binary() is None, reason="chromium is not installed (scripts/setup installs it)"
)


class Marked(HTMLParser):
    """Text of every element carrying data-key, and whether any script element exists."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self.open: list[tuple[str, str | None]] = []
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        key = dict(attrs).get("data-key")
        self.open.append((tag, key))
        if key is not None:
            self.text = []

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            open_tag, key = self.open.pop()
            if key is not None:
                self.values.append((key, "".join(self.text).strip()))
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def lookup(document: Any, path: str) -> Any:
    for part in path.split("/"):
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def shown(value: Any) -> str:
    return "-" if value is None else str(value)


def render(ccops, tmp_path, inv) -> tuple[dict, Marked, tuple[int, int, list[bytes]]]:
    page = tmp_path / "report.html"
    assert ccops("report", "-i", str(inv), "--to", str(page)).returncode == 0
    report = payload(ccops("report", "-i", str(inv), "--format", "json").stdout)
    dom = Marked()
    dom.feed(chromium.dump_dom(page, tmp_path))
    image = chromium.decode_png(chromium.screenshot(page, tmp_path))
    return report, dom, image


def colour_count(rows: list[bytes], rgb: bytes) -> int:
    return sum(row[i : i + 3] == rgb for row in rows for i in range(0, len(row), 3))


def test_the_rendered_page_shows_the_json_reports_numbers(ccops, tmp_path):
    inv = fleet(ccops, tmp_path)
    report, dom, (width, height, rows) = render(ccops, tmp_path, inv)
    assert len(dom.values) > 60  # the tables and plots rendered with their numbers
    wrong = [(key, text, lookup(report, key)) for key, text in dom.values if text != shown(lookup(report, key))]
    assert not wrong
    keys = {key for key, _ in dom.values}
    for key in ("totals/hosts", "totals/risks", "totals/out_of_policy", "sites/0/compliance/in_policy"):
        assert key in keys
    # the screenshot is a page, not a blank: many colours, text and bars drawn in the palette's colours
    assert (width, height) == (1280, 1800)
    assert chromium.white_share(rows) < 0.97
    assert colour_count(rows, bytes.fromhex("0072B2")) > 100  # the sites' trend lines, first on the page
    for key in ("morning/0/numbers/inspected/now", "morning/1/numbers/security_overdue/last_week"):
        assert key in keys
    # the charts below the site screens are drawn too
    _, _, lower = chromium.decode_png(chromium.screenshot(tmp_path / "report.html", tmp_path, 1280, 3600))
    assert colour_count(lower[1800:], bytes.fromhex("009E73")) > 100  # the "in policy" segment
    assert colour_count(lower[1800:], bytes.fromhex("D55E00")) > 100  # the "out of policy" / overdue segments


def test_hostile_values_stay_text_in_the_rendered_page(ccops, tmp_path):
    inv = fleet(ccops, tmp_path, site_name=EVIL, service=EVIL, package=EVIL, detail=EVIL)
    report, dom, _ = render(ccops, tmp_path, inv)
    assert dom.scripts == 0
    page = chromium.dump_dom(tmp_path / "report.html", tmp_path)
    assert "<img" not in page and "&lt;script&gt;alert('x')&lt;/script&gt;\"&gt;&lt;img" in page
    assert all(text == shown(lookup(report, key)) for key, text in dom.values)


CONTROLS = "\x1b]52;c;QUJD\x07\x1b[2J\r\u202egnp.exe\u2066\u200b\x7f\x85"


def test_controls_and_bidi_overrides_are_shown_as_escapes_in_the_rendered_page(ccops, tmp_path):
    """A site name or a host's text cannot reorder, hide or smuggle controls into the page a manager reads."""
    inv = fleet(
        ccops,
        tmp_path,
        site_name=json.dumps(f"Centre{CONTROLS}"),
        service=f"cron{CONTROLS}",
        detail=f"loadable{CONTROLS}{EVIL}",
    )
    _, dom, _ = render(ccops, tmp_path, inv)
    assert dom.scripts == 0
    page = chromium.dump_dom(tmp_path / "report.html", tmp_path)
    raw = [c for c in page if not c.isprintable() and c not in " \n\t"]
    assert not raw, raw[:5]
    assert "Centre\\x1b]52;c;QUJD\\x07\\x1b[2J\\r\\u202egnp.exe\\u2066\\u200b\\x7f\\x85" in page
    assert "cron\\x1b]52;c;QUJD" in page and "<img" not in page  # the failed service's risk line
