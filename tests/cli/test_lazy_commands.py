"""`ccops --help` imports no command module, yet lists every command as the commands themselves say."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import click

from ccops.cli.main import COMMANDS, SECTIONS, cli
from ccops.verbs import VERBS
from tests.conftest import BIN, ROOT, ccops_env


def test_the_help_table_names_every_command_and_its_loaded_summary(tmp_path):
    for name, (_, line) in COMMANDS.items():
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and not command.hidden
        assert command.get_short_help_str(10**6) == line, name
    assert {name for name, verb in VERBS.items() if verb.command} == {
        where.removeprefix("verb:") for where, _ in COMMANDS.values() if where.startswith("verb:")
    }


def test_help_groups_every_command_once_with_summaries_that_fit_80_columns(tmp_path):
    proc = subprocess.run(
        [str(BIN / "ccops"), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**ccops_env(tmp_path / "home"), "COLUMNS": "80"},
        timeout=60,
        check=True,
    )
    sections = re.findall(r"^(\w[\w ]*):\n((?:  .*\n)+)", proc.stdout, re.MULTILINE)
    listed = {title: [row.split()[0] for row in rows.splitlines()] for title, rows in sections}
    # the operator's order: inventory, plan, change, fleet, lab
    assert [t for t in listed if t not in ("Options", "Exit codes")] == list(SECTIONS), listed
    names = [name for title, rows in listed.items() if title not in ("Options", "Exit codes") for name in rows]
    assert sorted(names) == sorted(COMMANDS)  # each once, none hidden
    for title, rows in sections:
        for row in rows.splitlines():
            assert len(row) <= 80 and not row.endswith("..."), (title, row)
            if title not in ("Options", "Exit codes"):
                assert row.split(None, 1)[1] == COMMANDS[row.split()[0]][1]  # whole, on one line
    # no stale claims: every kind of work is named, software as done
    assert "as it lands" not in proc.stdout and "coming" not in proc.stdout
    for word in ("compliance", "software", "images", "plan"):
        assert word in proc.stdout


def test_ccops_help_imports_no_command_module(tmp_path):
    script = (
        "import json, sys\n"
        "from ccops.cli.main import main\n"
        "sys.argv = ['ccops', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ccops'))), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ccops_env(tmp_path / "home"),
        timeout=60,
        check=True,
    )
    assert "Change hosts:" in proc.stdout and "inventory" in proc.stdout
    imported = json.loads(proc.stderr.strip().splitlines()[-1])
    assert not [m for m in imported if m.endswith("_cmd") or m.startswith(("ccops.run", "ccops.inventory"))], imported
