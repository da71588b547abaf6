"""How things read on a terminal and in files: times in tables, and host or site text made inert."""

import json
import math
import os
import socket
import stat
import threading
from io import StringIO

import pytest

from ccops.cli.output import duration, table, uptime, utc_time
from ccops.cli.runs_cmd import report_detail
from ccops.errors import EXIT_USAGE, CcopsError
from ccops.runner.progress import Progress
from ccops.text import strict_json
from ccops.text.output_file import write_output
from ccops.text.safe_text import markdown_cell, visible, visible_lines


@pytest.mark.parametrize(
    ("seconds", "text"), [(51, "51s"), (51.4, "51s"), (185, "3m 05s"), (3720, "1h 02m"), (None, "-")]
)
def test_durations_are_never_rounded_to_zero_minutes(seconds, text):
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2026-11-23T03:04:05.123456", "2026-11-23 03:04:05Z"),  # Ansible's now(utc=true): naive, UTC
        ("2026-11-23T11:04:05+08:00", "2026-11-23 03:04:05Z"),
        ("2026-11-23T03:04:05Z", "2026-11-23 03:04:05Z"),
        ("not a time", "not a time"),
        (None, "-"),
    ],
)
def test_record_times_show_their_zone(value, text):
    assert utc_time(value) == text


def test_a_hosts_report_says_which_backup_a_rollback_restored():
    assert (
        report_detail({"outcome": "rolled_back", "rollback": {"id": "RUN1-h-before-0101"}})
        == "restored RUN1-h-before-0101"
    )
    patched = {
        "packages_changed": {"changed": {"a": "1 -> 2", "b": "1 -> 2"}, "added": ["c"], "removed": []},
        "backup_before": {"id": "B1"},
        "backup_after": {"id": "B2"},
    }
    assert report_detail(patched) == "2 changed, 1 added; backup before B1; backup after B2"
    assert report_detail(None) == ""


# --- what hosts and site files say reaches a terminal, a file or a pipe only as inert text ---


# OSC 52 clipboard write, OSC 8 link, title change, screen clear, a carriage return that overwrites
# the line, C1 CSI, DEL, bidi override and isolate, zero-width space, line separator, lone surrogate
HOSTILE = (
    "\x1b]52;c;cm0gLXJmIH4=\x07"
    "\x1b]8;;http://x.invalid/\x1b\\link\x1b]8;;\x1b\\"
    "\x1b]0;owned\x07\x1b[2J\x1b[H"
    "safe\rEVIL\x9b31m\x7f\u202egnp.exe\u2066\u200b\u2028\ud800"
)


def _obeyable(text: str) -> list[str]:
    """Characters a terminal, a bidi renderer or an encoder would act on, rather than show."""
    return [c for c in text if not c.isprintable() and c not in " \n"]


@pytest.mark.parametrize(
    "char",
    [
        "\x1b",
        "\x07",
        "\r",
        "\t",
        "\x00",
        "\x85",
        "\x9b",
        "\x7f",
        "\u202e",
        "\u2067",
        "\u200b",
        "\ufeff",
        "\u2028",
        "\ud800",
        "\u00ad",  # soft hyphen
        "\u3164",  # Hangul filler: a printable letter that draws nothing
        "\u115f",
    ],
)
def test_every_control_is_shown_as_an_escape(char):
    shown = visible(f"a{char}b")
    assert not _obeyable(shown) and shown.startswith("a\\") and shown.endswith("b")


def test_text_people_write_stays_as_it_is():
    for text in [
        "呼叫中心 上海 浦东",
        "Zürich café",
        "C:\\Users\\agent",
        "pkg 1:2.3~rc1+deb12u1",
        "全角\u3000空格",
        "✓ ok",
    ]:
        assert visible(text) == text


def test_the_hostile_line_is_inert_and_still_readable():
    shown = visible(HOSTILE)
    assert not _obeyable(shown)
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07" in shown and "safe\\rEVIL" in shown and "\\u202egnp.exe" in shown
    assert shown.encode("utf-8")  # a lone surrogate no longer breaks the encoder
    assert visible_lines(f"one\n{HOSTILE}\nthree").split("\n")[::2] == ["one", "three"]


def test_a_table_row_stays_one_row_whatever_its_cells_hold():
    text = table([["h1", f"pkg\nFAKE  ROW\r{HOSTILE}"], ["h2", "ok"]], ["HOST", "DETAIL"])
    lines = text.split("\n")
    assert len(lines) == 3 and lines[1].startswith("h1    pkg\\nFAKE  ROW\\r") and lines[2].startswith("h2")
    assert not _obeyable(text)


def test_a_failing_hosts_message_reaches_the_live_progress_inert():
    stream = StringIO()
    progress = Progress(stream)
    event = {"host": f"h1{HOSTILE}", "res": {"msg": f"first line\nlast {HOSTILE}"}}
    progress({"event": "runner_on_failed", "event_data": event})
    shown = stream.getvalue()
    assert shown.count("\n") == 1 and "FAILED" in shown and "last \\x1b]52" in shown and not _obeyable(shown)


def test_json_is_strict_and_keeps_every_finite_number():
    document = {"pending": math.inf, "used": [math.nan, -math.inf, 1.5, 7], math.nan: "key", "text": HOSTILE}

    def refuse(name: str) -> None:
        raise AssertionError(f"not JSON: {name}")

    parsed = json.loads(strict_json.dumps(document), parse_constant=refuse)
    assert parsed == {"pending": None, "used": [None, None, 1.5, 7], "nan": "key", "text": parsed["text"]}
    assert parsed["text"].startswith("\x1b]52")  # JSON keeps the value exactly, escaped in the text
    assert strict_json.dumps(document).isascii() and not _obeyable(strict_json.dumps(document))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("1:2.3~rc1+deb12u1", "1:2.3~rc1+deb12u1"),
        ("hand_back", "hand_back"),
        ("a | b", "a \\| b"),
        ("<!--", "\\<\\!--"),
        ("[x](http://e.invalid)", "\\[x\\](http\\://e.invalid)"),
        ("![i](x)", "\\!\\[i\\](x)"),
        ("www.e.invalid", "www\\.e.invalid"),
        ("`code` *em* _em_ @team #1 &amp;", "\\`code\\` \\*em\\* \\_em\\_ \\@team \\#1 \\&amp;"),
        ("x\ny\\", "x\\\\ny\\\\"),
    ],
)
def test_a_markdown_cell_is_only_text(value, cell):
    assert markdown_cell(value) == cell


# --- output files: regular files atomically, anything else as a stream, never replaced ---


def _reader(path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def read() -> None:
        with open(path, "rb") as handle:  # noqa: PTH123 (a FIFO: opening blocks until the writer comes)
            got.append(handle.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


@pytest.mark.parametrize("through_symlink", [False, True])
def test_a_pipe_is_written_as_a_stream_and_stays_a_pipe(tmp_path, through_symlink):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    target = fifo
    if through_symlink:
        target = tmp_path / "link"
        target.symlink_to(fifo)
    thread, got = _reader(fifo)
    write_output(target, "report ✓\n", "--output")
    thread.join(timeout=30)
    assert got == ["report ✓\n".encode()]
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and (not through_symlink or target.is_symlink())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["pipe", *(["link"] if through_symlink else [])])


def test_a_regular_file_is_replaced_whole_and_keeps_its_mode(tmp_path):
    report = tmp_path / "report.json"
    report.write_text("old")
    report.chmod(0o644)
    write_output(report, "new\n", "--json")
    assert report.read_text() == "new\n" and stat.S_IMODE(report.stat().st_mode) == 0o644
    write_output(tmp_path / "fresh.xml", "<x/>\n", "--junit")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.xml", "report.json"]


def test_a_link_to_a_file_is_replaced_never_written_through(tmp_path):
    """A link planted where a root run writes its report cannot make it overwrite the file it names."""
    system = tmp_path / "shadow"
    system.write_text("precious")
    link = tmp_path / "report.html"
    link.symlink_to(system)
    write_output(link, "<p>report</p>\n", "--output")
    assert system.read_text() == "precious"
    assert not link.is_symlink() and link.read_text() == "<p>report</p>\n"


def test_dash_is_standard_output(capsysbinary):
    write_output("-", "on stdout \ud800\n", "--output")
    assert capsysbinary.readouterr().out == b"on stdout \\ud800\n"


@pytest.mark.parametrize(("name", "message"), [("missing/report.html", "no such folder"), (".", "is a folder")])
def test_a_target_that_cannot_be_a_file_is_a_usage_line(tmp_path, name, message):
    with pytest.raises(CcopsError) as caught:
        write_output(tmp_path / name, "x", "--output")
    assert caught.value.exit_code == EXIT_USAGE and message in str(caught.value) and "\n" not in str(caught.value)
    assert not (tmp_path / "missing").exists()


def test_a_disk_is_never_written(tmp_path):
    """A block device node with an experimental major number no driver serves: even a write would go nowhere."""
    disk = tmp_path / "disk"
    try:
        os.mknod(disk, 0o600 | stat.S_IFBLK, os.makedev(240, 254))
    except PermissionError:
        pytest.skip("no CAP_MKNOD here")
    link = tmp_path / "report.html"
    link.symlink_to(disk)
    for target in (disk, link):
        with pytest.raises(CcopsError, match="is a block device") as caught:
            write_output(target, "x", "--output")
        assert caught.value.exit_code == EXIT_USAGE
    assert stat.S_ISBLK(disk.lstat().st_mode) and link.is_symlink()


def test_a_socket_is_refused_in_one_line_and_left_alone(tmp_path):
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    try:
        with pytest.raises(CcopsError, match="cannot write"):
            write_output(path, "x", "--output")
        assert stat.S_ISSOCK(path.lstat().st_mode)
    finally:
        server.close()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, "3600"])
def test_a_time_a_host_reported_as_nonsense_reads_unknown(value):
    assert (uptime(value), duration(value)) == ("-", "-")


def test_commands_print_through_the_sanitising_helpers():
    """A new command printing host data with click.echo or print would bypass the sanitiser."""
    from pathlib import Path

    import ccops.cli

    folder = Path(ccops.cli.__file__).parent
    raw = [
        f"{path.name}:{number}"
        for path in sorted(folder.glob("*.py"))
        if path.name not in ("output.py", "main.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "click.echo(" in line or "print(" in line or "sys.stdout.write(" in line
    ]
    assert not raw
