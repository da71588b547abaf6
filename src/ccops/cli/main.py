"""The ``ccops`` command: a thin skin over the library. Errors end here, once."""

from __future__ import annotations

import io
import os
import sys

import click

from ccops import __version__
from ccops.cli import (
    backups_cmd,
    comply_cmd,
    content_cmd,
    decommission_cmd,
    deploy_cmd,
    fleet_cmd,
    host_cmd,
    hostkey_cmd,
    image_cmd,
    inventory_cmd,
    lab_cmd,
    node_cmd,
    notify_cmd,
    plan_cmd,
    resume_cmd,
    runs_cmd,
    schedule_cmd,
    software_cmd,
)
from ccops.cli.connecting import gate_connecting
from ccops.cli.verb_cmd import verb_command
from ccops.errors import EXIT_CODES, EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, CcopsError
from ccops.safe_text import visible_lines
from ccops.verbs import VERBS

EPILOG = "\n".join(
    [
        "\b",
        "Exit codes:",
        *(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items()),
        "\b",
        "Start with:  ccops lab up && ccops inspect && ccops host show lab-deb12-01",
    ]
)


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ccops")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Lifecycle operations for call-centre terminals and servers.

    ccops reads a YAML inventory grouped by call-centre site and runs Ansible
    playbooks over it: inspection, patching in waves with verified backups and
    rollback; decommissioning with evidence; software distribution as it lands.
    Every run leaves a record (ccops runs list).
    """
    ctx.ensure_object(dict)["debug"] = debug


# every verb of the registry with command=True is a `ccops VERB` command (cli/verb_cmd.py)
for command in (
    inventory_cmd.inventory,
    plan_cmd.plan,
    *(verb_command(verb) for verb in VERBS.values() if verb.command),
    resume_cmd.resume,
    backups_cmd.rollback,
    decommission_cmd.decommission,
    comply_cmd.comply,
    backups_cmd.backups,
    software_cmd.software,
    content_cmd.content,
    deploy_cmd.deploy,
    image_cmd.image,
    host_cmd.host,
    hostkey_cmd.hostkey,
    runs_cmd.runs,
    fleet_cmd.risks,
    fleet_cmd.report,
    lab_cmd.lab,
    node_cmd.node,
    notify_cmd.notify,
    schedule_cmd.schedule,
):
    cli.add_command(command)
gate_connecting(cli)  # an offline inventory is refused before a connecting command's own code runs


class _VisibleStderr(io.StringIO):
    """stderr for click's own messages, which quote what was typed: controls shown, not obeyed."""

    def write(self, text: str) -> int:
        sys.stderr.write(visible_lines(text))
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()


def main() -> None:
    os.umask(0o077)  # state, artifacts and whatever Ansible writes are private to the operator
    debug = "--debug" in sys.argv[1:]
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C into Abort, and so is a "no" at click.confirm(abort=True): tell them apart
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            click.echo("ccops: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        click.echo("ccops: not confirmed; nothing was done", err=True)
        sys.exit(EXIT_REFUSED)
    except click.UsageError as exc:
        exc.show(file=_VisibleStderr())
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show(file=_VisibleStderr())
        sys.exit(exc.exit_code)
    except CcopsError as exc:
        if debug:
            raise
        # split on newlines only: a carriage return or escape from a host is shown, never obeyed
        for shown in visible_lines(str(exc).rstrip("\r\n")).split("\n") if str(exc).strip() else ["error"]:
            click.echo(shown if ":" in shown.split(" ")[0] else f"ccops: {shown}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("ccops: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    else:
        # --help and --version end in click's Exit, returned here as a code; commands return None
        sys.exit(code if isinstance(code, int) else EXIT_OK)
