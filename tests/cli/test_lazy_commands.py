"""`ccops --help` imports no command module, yet lists every command as the commands themselves say."""

from __future__ import annotations

import json
import subprocess
import sys

import click

from ccops.cli.main import COMMANDS, cli
from ccops.verbs import VERBS
from tests.conftest import ROOT, ccops_env


def test_the_help_table_says_what_each_command_says(tmp_path):
    for name, (_, line) in COMMANDS.items():
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and not command.hidden
        assert click.Command(name, help=line).get_short_help_str(10**6) == command.get_short_help_str(10**6), name
    assert {name for name, verb in VERBS.items() if verb.command} == {
        where.removeprefix("verb:") for where, _ in COMMANDS.values() if where.startswith("verb:")
    }


def test_the_group_help_is_what_click_prints_for_the_loaded_commands():
    loaded = click.Group("ccops", commands=dict(cli.commands))
    for width in (60, 80, 100, 200):
        lazy = click.HelpFormatter(width=width)
        plain = click.HelpFormatter(width=width)
        cli.format_commands(click.Context(cli), lazy)
        loaded.format_commands(click.Context(loaded), plain)
        assert lazy.getvalue() == plain.getvalue()


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
    assert "Commands:" in proc.stdout and "inventory" in proc.stdout
    imported = json.loads(proc.stderr.strip().splitlines()[-1])
    assert not [m for m in imported if m.endswith("_cmd") or m.startswith(("ccops.run", "ccops.inventory"))], imported
