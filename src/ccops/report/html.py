"""The report as one self-contained static HTML page: inline CSS and SVG, no script, nothing fetched.

Its Content-Security-Policy forbids scripts and every fetch, so even a value that
escaped escaping could not run or call out; every value is escaped anyway. Each
number is marked ``data-key="PATH"``, its place in the JSON report (``/``-separated).
"""

from __future__ import annotations

from typing import Any

from ccops.report.svg import PALETTE, columns, e, sparkline, stacked_bars
from ccops.report.trends import local_time

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"
MAX_HOST_ROWS = 200
COMPLIANCE_COLOURS = {"in policy": "#009E73", "out of policy": "#D55E00", "never checked": "#999999"}
STATUS_CLASS = {"succeeded": "ok", "failed": "bad", "halted": "bad", "interrupted": "warn", "damaged": "bad"}

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:24px;color:#1b1f24;
background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
.meta{color:#57606a;margin:0 0 16px;overflow-wrap:anywhere}
.tiles{display:flex;flex-wrap:wrap;gap:12px}
.tile{border:1px solid #d0d7de;border-radius:6px;padding:10px 16px;min-width:120px}
.tile .num{font-size:26px;font-weight:600;display:block}.tile.bad .num{color:#b42318}.tile.ok .num{color:#1a7f37}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1a7f37}.bad{color:#b42318;font-weight:600}.warn{color:#9a6700}
svg{display:block;margin:8px 0}svg text{font-size:12px;fill:#1b1f24}svg text.on-bar{fill:#fff;font-weight:600}
svg .base{stroke:#8c959f}.note{color:#57606a}.plots{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0}figcaption{font-weight:600}
svg{max-width:100%;height:auto}.wide{overflow-x:auto;max-width:100%}
.site{border:1px solid #d0d7de;border-radius:8px;padding:8px 12px;margin:0 0 16px}.site h2{margin-top:4px}
table.numbers td,table.numbers th{padding:4px 8px}.delta{color:#57606a;font-size:12px}
.kinds{padding-left:18px;margin:4px 0}.kinds li{margin:2px 0;overflow-wrap:anywhere}
details{margin:12px 0}summary{font-weight:600;cursor:pointer}
@media (max-width:600px){body{margin:10px;font-size:15px}.tile{min-width:0;flex:1 1 40%;padding:8px}
.tile .num{font-size:22px}}
"""
NUMBERS = (
    ("inspected", "inspected", False),
    ("in_policy", "in policy", False),
    ("security_overdue", "security overdue", True),
    ("reverted", "reverted", True),
    ("held_apart", "held apart", True),
    ("failed_runs", "failed runs, 24 h", True),
)  # key, label, whether more is worse


def _num(value: Any, key: str, tag: str = "td") -> str:
    shown = "-" if value is None else value
    cls = ' class="n"' if tag == "td" else ' class="num"'
    return f'<{tag}{cls} data-key="{e(key)}">{e(shown)}</{tag}>'


def _td(value: Any) -> str:
    return f"<td>{e('-' if value is None else value)}</td>"


def _table(headers: list[str], rows: list[str], cls: str = "") -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    mark = f' class="{cls}"' if cls else ""
    return f'<div class="wide"><table{mark}><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _delta(now: Any, then: Any, worse_up: bool) -> str:
    """The change since yesterday, coloured by whether it is for the worse (a derived value: no data-key)."""
    if not isinstance(now, int) or not isinstance(then, int) or now == then:
        return ""
    worse = (now > then) == worse_up
    return f' <span class="delta {"bad" if worse else "ok"}">{now - then:+d}</span>'


def _site_screen(i: int, site: dict[str, Any], name: str, morning: dict[str, Any]) -> str:
    """One site's first screen: its numbers against yesterday and last week, trend lines, risks by kind."""
    base = f"morning/{i}"
    rows = []
    for key, label, worse_up in NUMBERS:
        cell = morning["numbers"][key]
        path = f"{base}/numbers/{key}"
        rows.append(
            f"<tr><th>{e(label)}</th>"
            f'<td class="n"><b data-key="{e(path)}/now">{e(cell["now"])}</b>'
            f"{_delta(cell['now'], cell['yesterday'], worse_up)}</td>"
            f"{_num(cell['yesterday'], f'{path}/yesterday')}{_num(cell['last_week'], f'{path}/last_week')}</tr>"
        )
    trend = morning["trend"]
    last = len(trend) - 1
    lines = "".join(
        f"<figure><figcaption>{e(caption)}</figcaption>"
        + sparkline(f"{caption}, {site['code']}", [(d["day"], d[key]) for d in trend], f"{base}/trend/{last}/{key}")
        + "</figure>"
        for key, caption in (("inspected", "hosts inspected a day"), ("failed_runs", "failed runs a day"))
        if trend
    )
    kinds = "".join(
        f'<li><b data-key="{e(base)}/risk_kinds/{k}/count">{r["count"]}</b> {e(r["kind"].replace("_", " "))}'
        f" &middot; worst: {e(r['worst']['host'] or '(run)')}: {e(r['worst']['detail'])}</li>"
        for k, r in enumerate(morning["risk_kinds"])
    )
    risks = (
        f'<p><span data-key="{e(base)}/risks">{morning["risks"]}</span> risk(s) by kind, most urgent first:</p>'
        f'<ul class="kinds">{kinds}</ul>'
        if kinds
        else '<p class="ok">No risk found.</p>'
    )
    return (
        f'<section class="site"><h2>{e(site["code"])} &middot; {e(name)}</h2>'
        f'<p class="meta">as of {e(morning["generated"])} ({e(morning["timezone"])})</p>'
        + _table(["", "now", "yesterday", "last week"], rows, "numbers")
        + (f'<div class="plots">{lines}</div>' if lines else "")
        + risks
        + "</section>"
    )


def _sites(report: dict[str, Any]) -> str:
    """Every site's first screen (a report document without them, made by an older ccops, has none)."""
    return "".join(
        _site_screen(i, site, site["name"] or site["city"] or site["code"], morning)
        for i, (site, morning) in enumerate(zip(report["sites"], report.get("morning") or [], strict=False))
    )


def _tiles(totals: dict[str, Any]) -> str:
    tiles = [
        ("hosts", "hosts", ""),
        ("inspected", "inspected", ""),
        ("in_policy", "in policy", "ok"),
        ("out_of_policy", "out of policy", "bad" if totals["out_of_policy"] else "ok"),
        ("never_checked", "never checked", ""),
        ("hosts_with_security", "hosts with security updates", "bad" if totals["hosts_with_security"] else "ok"),
        ("hosts_overdue", "hosts overdue on security", "bad" if totals["hosts_overdue"] else "ok"),
        ("risks", "risks", "bad" if totals["risks"] else "ok"),
    ]
    return (
        '<div class="tiles">'
        + "".join(
            f'<div class="tile {cls}">{_num(totals[key], f"totals/{key}", "span")}{e(label)}</div>'
            for key, label, cls in tiles
        )
        + "</div>"
    )


def _fleet(report: dict[str, Any]) -> str:
    variants = sorted({row["os"] for row in report["fleet"]})
    colour = {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(variants)}
    index = {(row["site"], row["os"]): i for i, row in enumerate(report["fleet"])}
    bars = [
        (
            site["code"],
            [(v, n, colour[v], f"fleet/{index[(site['code'], v)]}/hosts") for v, n in site["by_os"].items()],
        )
        for site in report["sites"]
    ]
    rows = [
        f"<tr>{_td(site['code'])}"
        + "".join(
            _num(site["by_os"][v], f"fleet/{index[(site['code'], v)]}/hosts") if v in site["by_os"] else "<td></td>"
            for v in variants
        )
        + "</tr>"
        for site in report["sites"]
    ]
    sites = [
        f"<tr>{_td(s['code'])}{_td(s['name'] or s['city'])}{_num(s['hosts'], f'sites/{i}/hosts')}"
        f"{_num(s['watched'], f'sites/{i}/watched')}{_num(s['inspected'], f'sites/{i}/inspected')}</tr>"
        for i, s in enumerate(report["sites"])
    ]
    return (
        "<h2>Fleet per site and OS variant</h2>"
        + stacked_bars("hosts per site and OS variant", bars)
        + _table(["site", "name", "hosts", "watched (active, retiring)", "inspected"], sites)
        + _table(["site", *variants], rows)
    )


def _compliance(report: dict[str, Any]) -> str:
    states = list(COMPLIANCE_COLOURS)
    bars = [
        (
            s["code"],
            [
                (k, s["compliance"][k], COMPLIANCE_COLOURS[k], f"sites/{i}/compliance/{k.replace(' ', '_')}")
                for k in states
            ],
        )
        for i, s in enumerate(report["sites"])
    ]
    rows = [
        f"<tr>{_td(s['code'])}"
        + "".join(_num(s["compliance"][k], f"sites/{i}/compliance/{k.replace(' ', '_')}") for k in states)
        + "</tr>"
        for i, s in enumerate(report["sites"])
    ]
    return (
        "<h2>Compliance</h2>"
        '<p class="note">From each host\'s latest <code>ccops comply</code> run that reached it.</p>'
        + stacked_bars("compliance per site", bars)
        + _table(["site", *states], rows)
    )


def _patches(report: dict[str, Any]) -> str:
    keys = ["pending_updates", "security_updates", "hosts_with_pending", "hosts_with_security", "hosts_overdue"]
    rows = [
        f"<tr>{_td(s['code'])}"
        + "".join(_num(s["patches"][k], f"sites/{i}/patches/{k}") for k in keys)
        + f"{_num(s['thresholds']['security_pending_days'], f'sites/{i}/thresholds/security_pending_days')}</tr>"
        for i, s in enumerate(report["sites"])
    ]
    bars = [
        (
            s["code"],
            [
                ("overdue", s["patches"]["hosts_overdue"], "#D55E00", f"sites/{i}/patches/hosts_overdue"),
                (
                    "security, within limit",
                    s["patches"]["hosts_with_security"] - s["patches"]["hosts_overdue"],
                    "#E69F00",
                    "",
                ),
            ],
        )
        for i, s in enumerate(report["sites"])
    ]
    return (
        "<h2>Pending patches</h2>"
        + stacked_bars("hosts with security updates pending, per site", bars)
        + _table(
            [
                "site",
                "pending updates",
                "security updates",
                "hosts with pending",
                "hosts with security",
                "hosts overdue",
                "site allows (days)",
            ],
            rows,
        )
    )


def _disks(report: dict[str, Any]) -> str:
    labels = list(report["sites"][0]["disks"]) if report["sites"] else []
    rows = [
        f"<tr>{_td(s['code'])}"
        + "".join(_num(s["disks"][b], f"sites/{i}/disks/{n}/hosts") for n, b in enumerate(labels))
        + "</tr>"
        for i, s in enumerate(report["sites"])
    ]
    plots = "".join(
        f"<figure><figcaption>{e(s['code'])}</figcaption>"
        + columns(
            f"hosts by fullest disk, {s['code']}",
            [(b, s["disks"][b], f"sites/{i}/disks/{n}/hosts") for n, b in enumerate(labels)],
        )
        + "</figure>"
        for i, s in enumerate(report["sites"])
    )
    return (
        "<h2>Disk use</h2>"
        '<p class="note">Hosts by how full their fullest disk is, at their latest inspection.</p>'
        + f'<div class="plots">{plots}</div>'
        + _table(["site", *labels], rows)
    )


def _risks(report: dict[str, Any]) -> str:
    if not report["risks"]:
        return '<p class="ok">No risk found.</p>'
    rows = [
        f"<tr>{_td(r['site'])}{_td(r['host'] or '(run)')}{_td(r['kind'].replace('_', ' '))}{_td(r['detail'])}</tr>"
        for r in report["risks"]
    ]
    return (
        "<details><summary>Full risk list: "
        + f'<span data-key="totals/risks">{len(report["risks"])}</span> risk(s), most urgent first</summary>'
        + _table(["site", "host", "kind", "detail"], rows)
        + "</details>"
    )


def _runs(report: dict[str, Any]) -> str:
    if not report["runs"]:
        return '<h2>Recent runs</h2><p class="note">No run in the last 30 days.</p>'
    zones = {m["timezone"] for m in report.get("morning") or []}
    zone = zones.pop() if len(zones) == 1 else "UTC"  # sites in several zones: one clock for the table
    rows = [
        f"<tr>{_td(r['id'])}{_td(r['verb'])}{_td(r['operator'])}{_td(r['change_id'])}"
        f"{_td(local_time(r['started'], zone))}"
        f'<td class="{STATUS_CLASS.get(r["status"], "")}">{e(r["status"])}</td>{_num(r["hosts"], f"runs/{i}/hosts")}'
        f"<td>{_outcomes(i, r['outcomes'])}</td></tr>"
        for i, r in enumerate(report["runs"])
    ]
    return "<h2>Recent runs</h2>" + _table(
        ["run", "verb", "operator", "change", "started", "status", "hosts", "outcomes"], rows
    )


def _outcomes(index: int, outcomes: dict[str, int]) -> str:
    return ", ".join(
        f'{e(k)} <span data-key="{e(f"runs/{index}/outcomes/{k}")}">{n}</span>' for k, n in outcomes.items()
    )


def _hosts(report: dict[str, Any]) -> str:
    order = sorted(
        range(len(report["hosts"])), key=lambda i: (-report["hosts"][i]["risks"], report["hosts"][i]["host"])
    )
    zones = {m["site"]: m["timezone"] for m in report.get("morning") or []}
    rows = []
    for i in order[:MAX_HOST_ROWS]:
        h = report["hosts"][i]
        cls = {"in policy": "ok", "out of policy": "bad"}.get(h["compliance"], "")
        rows.append(
            f"<tr>{_td(h['host'])}{_td(h['site'])}{_td(h['os'])}{_td(h['lifecycle'])}"
            f"{_td(local_time(h['last_inspected'], zones.get(h['site'], 'UTC')) if h['last_inspected'] else None)}"
            f"{_num(h['pending_updates'], f'hosts/{i}/pending_updates')}"
            f"{_num(h['security_updates'], f'hosts/{i}/security_updates')}"
            f"{_td(h['fullest_disk'])}{_num(h['fullest_disk_used_pct'], f'hosts/{i}/fullest_disk_used_pct')}"
            f'<td class="{cls}">{e(h["compliance"])}</td>{_num(h["risks"], f"hosts/{i}/risks")}</tr>'
        )
    more = len(order) - MAX_HOST_ROWS
    note = f'<p class="note">{more} more host(s) in the CSV report.</p>' if more > 0 else ""
    return (
        "<h2>Hosts</h2>"
        + _table(
            [
                "host",
                "site",
                "OS",
                "lifecycle",
                "inspected",
                "pending",
                "security",
                "fullest disk",
                "used %",
                "compliance",
                "risks",
            ],
            rows,
        )
        + note
    )


def render_html(report: dict[str, Any]) -> str:
    sites = ", ".join(s["code"] for s in report["sites"])
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>ccops fleet report: {e(sites)}</title><style>{STYLE}</style></head><body>"
        f'<h1>Morning report</h1><p class="meta">sites {e(sites)} &middot; generated {e(report["generated"])}'
        f" &middot; inventory {e(report['inventory'])}</p>"
        + _sites(report)
        + "<h2>All sites</h2>"
        + _tiles(report["totals"])
        + _risks(report)
        + _fleet(report)
        + _compliance(report)
        + _patches(report)
        + _disks(report)
        + _runs(report)
        + _hosts(report)
        + "</body></html>\n"
    )
