"""Inline SVG bar plots for the HTML report: plain shapes and text, every value escaped.

Each number drawn carries ``data-key``, its path in the report document, like the page's tables.
"""

from __future__ import annotations

from html import escape
from typing import Any

from ccops.text.safe_text import visible

# colour-blind safe palette (Okabe-Ito), then greys
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999", "#666666")
LABEL_WIDTH = 150
BAR_HEIGHT = 22
GAP = 8


def e(value: Any) -> str:
    """Text or attribute value, escaped (quotes too): report values come from site files and hosts.

    Controls, bidi overrides and zero-width characters are shown as escapes: HTML forbids most
    controls, and the others would reorder or hide what the page says.
    """
    return escape(visible(value), quote=True)


Segment = tuple[str, int, str, str]  # legend label, value, colour, data-key


def stacked_bars(title: str, rows: list[tuple[str, list[Segment]]], width: int = 720) -> str:
    """One horizontal bar per row, split into coloured segments with their values written on them."""
    legend, lines = _legend([(label, colour) for _, segments in rows for label, _, colour, _ in segments], width)
    top = 6 + 18 * lines
    height = top + len(rows) * (BAR_HEIGHT + GAP) + 4
    largest = max((sum(s[1] for s in segments) for _, segments in rows), default=0) or 1
    scale = (width - LABEL_WIDTH - 60) / largest
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}"><title>{e(title)}</title>',
        legend,
    ]
    for i, (label, segments) in enumerate(rows):
        y = top + i * (BAR_HEIGHT + GAP)
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end" class="axis">{e(_clip(label, 22))}</text>'
        )
        x = float(LABEL_WIDTH)
        for seg_label, value, colour, key in segments:
            w = value * scale
            if w <= 0:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" fill="{e(colour)}">'
                f"<title>{e(label)}: {e(seg_label)} {value}</title></rect>"
            )
            if w >= 18:
                mark = f' data-key="{e(key)}"' if key else ""  # a derived value has no place in the report
                parts.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + 15}" text-anchor="middle" class="on-bar"{mark}>{value}</text>'
                )
            x += w
    parts.append("</svg>")
    return "".join(parts)


def columns(title: str, bars: list[tuple[str, int, str]], width: int = 480, height: int = 180) -> str:
    """Vertical bars (label, value, data-key), the value written above each bar."""
    largest = max((v for _, v, _ in bars), default=0) or 1
    slot = (width - 20) / max(len(bars), 1)
    plot = height - 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}"><title>{e(title)}</title>',
        f'<line x1="10" y1="{plot + 16}" x2="{width - 10}" y2="{plot + 16}" class="base"/>',
    ]
    for i, (label, value, key) in enumerate(bars):
        h = plot * value / largest
        x = 10 + i * slot + slot * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{plot + 16 - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}"'
            f' fill="{PALETTE[0]}"><title>{e(label)}: {value}</title></rect>'
            f'<text x="{x + slot * 0.35:.1f}" y="{plot + 12 - h:.1f}" text-anchor="middle"'
            f' data-key="{e(key)}">{value}</text>'
            f'<text x="{x + slot * 0.35:.1f}" y="{plot + 32}" text-anchor="middle" class="axis">{e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend(items: list[tuple[str, str]], width: int) -> tuple[str, int]:
    """Colour keys in as many lines as the width needs; the SVG and how many lines it took."""
    seen: dict[str, str] = {}
    for label, colour in items:
        seen.setdefault(label, colour)
    parts, x, line = [], float(LABEL_WIDTH), 0
    for label, colour in seen.items():
        step = 28 + 7 * min(len(label), 24)
        if x + step > width and x > LABEL_WIDTH:
            x, line = float(LABEL_WIDTH), line + 1
        y = 4 + 18 * line
        parts.append(
            f'<rect x="{x:.0f}" y="{y}" width="12" height="12" fill="{e(colour)}"/>'
            f'<text x="{x + 16:.0f}" y="{y + 10}" class="axis">{e(_clip(label, 24))}</text>'
        )
        x += step
    return "".join(parts), (line + 1 if seen else 0)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sparkline(title: str, points: list[tuple[str, int]], key: str, width: int = 320, height: int = 64) -> str:
    """A trend line of daily values (label, value), oldest first; the newest value is written at its end
    (marked ``key``). The drawing scales down to its container: it never widens a phone's page."""
    largest = max((v for _, v in points), default=0) or 1
    left, right, top, bottom = 4, 40, 8, height - 8
    step = (width - left - right) / max(len(points) - 1, 1)
    xy = [(left + i * step, bottom - (bottom - top) * v / largest) for i, (_, v) in enumerate(points)]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="spark" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMid meet"><title>{e(title)}</title>',
        f'<line x1="{left}" y1="{bottom}" x2="{width - right}" y2="{bottom}" class="base"/>',
    ]
    if xy:
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>')
        parts += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{PALETTE[0]}"><title>{e(label)}: {value}</title></circle>'
            for (x, y), (label, value) in zip(xy, points, strict=True)
        ]
        x, y = xy[-1]
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 4:.1f}" data-key="{e(key)}">{points[-1][1]}</text>')
    parts.append("</svg>")
    return "".join(parts)
