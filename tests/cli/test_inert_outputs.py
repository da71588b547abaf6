"""What a host reports and what a site file says stays inert in everything ccops prints or writes.

Through the real CLI: records seeded with hostile text and non-finite numbers, a comply --check
whose hosts answer hostile text at the runner's event seam, a plan with hostile group variables;
terminals see escapes shown, never obeyed; every file parses with a strict parser; an output path
that is a pipe (or a symlink to one) stays a pipe; a missing folder is one line.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import math
import os
import re
import stat
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ccops.errors import EXIT_HOSTS_FAILED, EXIT_USAGE, CcopsError
from ccops.runner.engine import Batch, Execution
from ccops.store.records import Store
from ccops.text.safe_text import visible
from tests.conftest import write_inventory
from tests.fleet_records import inspect, record, seed_fleet, site_file
from tests.json_output import data_of

# a clipboard write, a link, a title change, a screen clear, a line overwritten by a carriage
# return, a C1 control, a bidi override, a zero-width space; then markdown, CSV and HTML breakers
TERMINAL = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b]8;;http://x.invalid/\x1b\\ln\x1b]8;;\x1b\\\x1b]0;t\x07\x1b[2Jok\rEVIL\x9b1m\u202egpj\u200b"
BREAKERS = (
    "| fake | row |\n<!-- [l](http://x.invalid) ![i](http://x.invalid/i.png) =cmd|' /C calc'!A0 <script>x</script>"
)
HOSTILE = TERMINAL + BREAKERS


def obeyed(text: str) -> list[str]:
    """Characters a terminal or a bidi renderer would act on instead of showing."""
    return [c for c in text if not c.isprintable() and c not in " \n"]


def refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def strict_json(text: str) -> object:
    return data_of(json.loads(text, parse_constant=refuse_constant))


def read_fifo(path: Path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as handle:  # noqa: PTH123 (a FIFO: the open waits for ccops to write)
            got.append(handle.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


@pytest.fixture
def fleet(ccops, tmp_path):
    """Two sites whose records hold hostile text in every free-text field, and NaN and infinity in numbers."""
    inv = write_inventory(
        tmp_path / "inv",
        {
            "aaa.yml": site_file("aaa", 4, "10.0.0.1", name=json.dumps("Centre" + TERMINAL)),
            "bbb.yml": site_file("bbb", 3, "10.0.1.1", os="debian11"),
        },
    )
    store = Store(ccops.home / "ccops.db")
    seed_fleet(store, service=f"cron{HOSTILE}.service", package=f"openssl{HOSTILE}", detail=HOSTILE)
    odd = record(
        os={"distribution": f"Debian{TERMINAL}", "version": "12", "variant": "debian12", "kernel": "6.1"},
        hardware={"cpus": 2, "memory_mb": math.inf},
        uptime_seconds=math.nan,
        disks=[{"mount": f"/srv{TERMINAL}", "size_mb": math.inf, "free_mb": 1, "used_pct": math.nan}],
    )
    inspect(store, "20261201T060000Z-eeeeee", {"aaa-t04": odd})
    return inv


def test_terminal_output_shows_escapes_and_never_obeys_them(ccops, fleet):
    inv = ("-i", str(fleet))
    commands = (
        ["risks", *inv],
        ["host", "show", "aaa-t03", *inv],
        ["host", "show", "aaa-t04", *inv],
        ["runs", "list"],
        ["runs", "show", "20261122T070000Z-cccccc"],
        ["inventory", "list", *inv],
        ["inventory", "show", "aaa-t01", *inv],
    )
    for args in commands:
        result = ccops(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert not obeyed(result.stdout + result.stderr), args
    risks = ccops("risks", "-i", str(fleet)).stdout
    assert "cron\\x1b]52;c;cm0gLXJmIH4=\\x07" in risks and "ok\\rEVIL" in risks  # shown, readable
    assert "| fake | row |\\n<!--" in risks  # one table row: the newline is shown, not obeyed


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
def test_every_report_format_parses_strictly(ccops, fleet, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    result = ccops("report", "-i", str(fleet), "--format", fmt, "--to", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert not obeyed(text)
    if fmt == "json":
        report = strict_json(text)
        assert isinstance(report, dict) and report["totals"]["hosts"] == 9
        t04 = next(h for h in report["hosts"] if h["host"] == "aaa-t04")
        assert t04["fullest_disk_used_pct"] is None  # inf/inf from the host: unknown, not NaN
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 9
        assert not [v for r in rows for v in r.values() if v[:1] in ("=", "+", "-", "@", "\t", "\r")]
    else:
        page = Page()
        page.feed(text)
        page.close()
        assert page.tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "div", "span"} | {
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
            "svg",
            "rect",
            "text",
            "line",
            "figure",
            "figcaption",
            "code",
        } | {"section", "details", "summary", "ul", "li", "b", "polyline", "circle"}  # the morning page's screens
        assert not page.comments and "<script>" not in text


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def test_host_show_json_is_strict(ccops, fleet):
    result = ccops("host", "show", "aaa-t04", "-i", str(fleet), "-o", "json")
    assert result.returncode == 0, result.stderr
    shown = strict_json(result.stdout)
    assert isinstance(shown, dict) and result.stdout.isascii()
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout


@pytest.mark.parametrize("through_symlink", [False, True])
def test_a_report_into_a_pipe_leaves_the_pipe_a_pipe(ccops, fleet, tmp_path, through_symlink):
    fifo = tmp_path / "stdout-stand-in"
    os.mkfifo(fifo)
    target = fifo
    if through_symlink:
        target = tmp_path / "link"
        target.symlink_to(fifo)
    thread, got = read_fifo(fifo)
    result = ccops("report", "-i", str(fleet), "--format", "json", "--to", str(target))
    thread.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and (not through_symlink or target.is_symlink())
    assert strict_json(got[0].decode())["totals"]["hosts"] == 9
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_dash_is_standard_output(ccops, fleet):
    result = ccops("report", "-i", str(fleet), "--format", "csv", "--to", "-")
    assert result.returncode == 0 and result.stdout.startswith("host,") and "written" not in result.stderr


@pytest.mark.parametrize(("name", "message"), [("no/such/report.html", "no such folder"), ("", "is a folder")])
def test_an_impossible_output_is_one_usage_line(ccops, fleet, tmp_path, name, message):
    result = ccops("report", "-i", str(fleet), "--to", str(tmp_path / name))
    assert result.returncode == EXIT_USAGE and message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "no").exists()


# --- a comply --check whose hosts answer hostile text, at the runner's event seam ---

COMPLY_SITE = """\
site:
  code: tst
  city: testcity
  timezone: UTC
  rollout: {canary: 1, waves: ["100%"], batch_size: 5, max_fail_percentage: 100}
connections:
  linux: {type: ssh, user: ccops, become: true}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: tst-t[01:03]
    addresses: 127.0.0.9
policies:
  - {usb_storage: blocked, services: [ssh]}
"""


class HostileHosts:
    """tst-t01 out of policy with hostile details; tst-t02 fails with a hostile message; tst-t03 in policy."""

    def run(self, batch: Batch, execution: Execution) -> str:
        send = execution.collector
        play = str(uuid.uuid4())
        send({"event": "playbook_on_play_start", "event_data": {"uuid": play}})
        stats: dict[str, dict[str, int]] = {"ok": {}, "failures": {}}
        for host in batch.hosts:
            data = {"host": host, "play_uuid": play, "task": f"check{TERMINAL}"}
            if host == "tst-t02":
                send(
                    {
                        "event": "runner_on_failed",
                        "event_data": {**data, "res": {"msg": f"broke\n{BREAKERS}\n{TERMINAL}"}},
                    }
                )
                stats["failures"][host] = 1
                continue
            deviations = [{"policy": "usb_storage", "detail": HOSTILE}] if host == "tst-t01" else []
            report = {
                "outcome": "noncompliant" if deviations else "compliant",
                "reason": f"{len(deviations)} deviation(s)",
                "deviations": deviations,
                "fixed": [],
                "policies": ["usb_storage", "services"],
            }
            send({"event": "runner_on_ok", "event_data": {**data, "res": {"ansible_facts": {"ccops_report": report}}}})
            stats["ok"][host] = 1
            if deviations:
                res = {"msg": f"out of policy: usb_storage: {HOSTILE}"}
                send({"event": "runner_on_failed", "event_data": {**data, "res": res}})
                stats["failures"][host] = 1
        send({"event": "playbook_on_stats", "event_data": stats})
        return "failed"


def run_cli(monkeypatch, capsys, *argv: str) -> tuple[int, str, str]:
    """The real ccops entry point in this process, so the engine can be the scripted one."""
    from ccops.cli.main import main

    monkeypatch.setattr(sys, "argv", ["ccops", *argv])
    umask = os.umask(0o022)
    try:
        with pytest.raises(SystemExit) as ended:
            main()
    finally:
        os.umask(umask)
    out, err = capsys.readouterr()
    return int(ended.value.code or 0), out, err


def test_comply_check_junit_json_and_terminal_stay_inert(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    # the package ccops.run exports a function named execute: patch the module itself
    monkeypatch.setattr(
        importlib.import_module("ccops.run.execute"), "default_engine", lambda inventory: HostileHosts()
    )
    inv = write_inventory(tmp_path / "inv", {"tst.yml": COMPLY_SITE})
    junit, fifo = tmp_path / "comply.xml", tmp_path / "json-pipe"
    os.mkfifo(fifo)
    thread, got = read_fifo(fifo)
    code, out, err = run_cli(
        monkeypatch, capsys, "comply", "-i", str(inv), "--check", "--junit", str(junit), "--json", str(fifo)
    )
    thread.join(timeout=60)
    assert code == EXIT_HOSTS_FAILED, err
    assert not obeyed(out) and not obeyed(err)
    assert "tst-t01  DEVIATES" in out and "\\x1b]52;c;" in out and "\\x1b]52;c;" in err  # the table, the live lines
    root = ET.parse(junit).getroot()  # noqa: S314 (the file ccops just wrote)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "1", "1")
    failure = root.find("testsuite[@name='tst-t01']/testcase[@name='usb_storage']/failure")
    assert failure is not None and failure.get("message", "").startswith("\\x1b]52;c;")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    result = strict_json(got[0].decode())
    assert isinstance(result, dict) and result["reports"]["tst-t01"]["deviations"][0]["detail"] == HOSTILE


def test_a_junit_file_in_a_missing_folder_is_refused_before_the_run(ccops, tmp_path):
    inv = write_inventory(tmp_path / "inv", {"tst.yml": COMPLY_SITE})
    result = ccops("comply", "-i", str(inv), "--check", "--junit", str(tmp_path / "ci" / "comply.xml"))
    assert result.returncode == EXIT_USAGE and result.stderr.count("\n") == 1 and "no such folder" in result.stderr
    assert "--junit" in result.stderr and not (ccops.home / "runs").exists()  # nothing ran


def test_the_top_level_error_line_shows_escapes(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))

    def broken(*args: object) -> None:
        raise CcopsError(f"aaa-t01: bad answer {TERMINAL}\r\nsecond line\rhidden")

    monkeypatch.setattr("ccops.cli.fleet_cmd._load", broken)
    code, _, err = run_cli(monkeypatch, capsys, "risks")
    assert code == 1 and not obeyed(err)
    assert err.split("\n") == [
        f"aaa-t01: bad answer {visible(TERMINAL)}",  # CRLF is a line break
        "ccops: second line\\rhidden",
        "",
    ]


# --- a plan for a pull request, with hostile group variables ---

PLAN_SITE = """\
site:
  code: tst
  city: testcity
  timezone: UTC
connections:
  linux: {type: ssh, user: ccops, become: true}
vars:
  asset_key_services:
    - "svc | fake | row |"
    - "<!-- hides the rest"
    - "[link](http://x.invalid) ![img](http://x.invalid/i.png) <http://x.invalid> www.x.invalid"
    - "\\e]52;c;cm0=\\a`code`*em*"
    - "two\\nlines"
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: tst-t[01:04]
    addresses: 127.0.0.9
"""


def test_a_markdown_plan_keeps_its_table_shape_whatever_the_variables_hold(ccops, tmp_path):
    from markdown_it import MarkdownIt

    inv = write_inventory(tmp_path / "inv", {"tst.yml": PLAN_SITE})
    result = ccops("plan", "inspect", "-i", str(inv), "-o", "markdown")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert not obeyed(text) and "<!--" not in text and "](" not in text.replace("\\](", "")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in t.children or []}
    assert not kinds & {"html_inline", "link_open", "image", "em_open"}
    # ccops's own markup only: the folded batch list, and the bold summary and heading it writes itself
    html = [t.content for t in tokens if t.type == "html_block"]
    assert all(re.fullmatch(r"<details><summary>\d+ batches</summary>\n|</details>\n", h) for h in html), html
    bold = [
        "".join(c.content for c in t.children[i + 1 : i + 2])
        for t in tokens
        for i, c in enumerate(t.children or [])
        if c.type == "strong_open"
    ]
    assert set(bold) <= {"4 hosts in 1 wave, 1 batch; 0 not touched", "What decides the night:"}, bold
    code = {c.content for t in tokens for c in t.children or [] if c.type == "code_inline"}
    assert code <= {"inspect", "playbooks/inspect.yml"} | {c for c in code if len(c) == 12}  # ccops's own names
    tables, rows = 0, []
    for i, token in enumerate(tokens):
        tables += token.type == "table_open"
        if token.type == "tr_open":
            cells = 0
            for inner in tokens[i + 1 :]:
                if inner.type == "tr_close":
                    break
                cells += inner.type in ("td_open", "th_open")
            rows.append(cells)
    # the waves (header, one wave), its batches (header, one batch), the actions (header, one action) and
    # the estimate (header, one site): no row added, no cell split
    assert tables == 4 and rows == [4, 4, 5, 5, 7, 7, 5, 5], rows
    plain = ccops("plan", "inspect", "-i", str(inv)).stdout  # the plan for a terminal: the same values, inert
    assert not obeyed(plain) and "'two\\nlines'" in plain and "\\x1b]52;c;cm0=\\x07" in plain
    shown = "".join(c.content for t in tokens for c in t.children or [] if c.type == "text")
    assert "svc | fake | row |" in shown and "<!-- hides the rest" in shown and "[link](http://x.invalid)" in shown
