"""Sinks a host's text reaches, swept with the characters that break them (pure: no Ansible, no CLI)."""

from __future__ import annotations

import csv
import io

import pytest

from ccops.report.morning import CSV_COLUMNS, to_csv

STARTS = ["=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20"]  # ASCII and full-width signs


@pytest.mark.parametrize("start", STARTS, ids=repr)
def test_a_csv_cell_a_host_controls_never_starts_a_formula(start):
    row = dict.fromkeys(CSV_COLUMNS, "x") | {"fullest_disk": start + 'HYPERLINK("http://x.invalid")'}
    (_, written) = list(csv.reader(io.StringIO(to_csv({"hosts": [row]}))))
    cell = written[CSV_COLUMNS.index("fullest_disk")]
    assert cell[:1] not in STARTS and "HYPERLINK" in cell  # shown as text: a quote or a visible escape first


def test_the_confirmation_question_shows_escapes_and_never_obeys_them(monkeypatch, capsys):
    import sys

    from ccops.cli.confirm import confirm
    from ccops.errors import RefusedError

    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    with pytest.raises(RefusedError):
        confirm("roll tst-a01 back to b1 (2026\x1b]0;owned\x07\x1b[2J\u202e)", yes=False)
    asked = capsys.readouterr().err
    assert "\\x1b]0;owned\\x07\\x1b[2J\\u202e" in asked and "\x1b" not in asked and "\u202e" not in asked
