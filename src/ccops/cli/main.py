"""The ``ccops`` command: a thin skin over the library. Errors end here, once."""

from __future__ import annotations

import importlib
import io
import os
import sys
from typing import Any

import click

from ccops import __version__
from ccops.errors import EXIT_CODES, EXIT_INTERRUPTED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, CcopsError
from ccops.text.safe_text import visible_lines
from ccops.verbs import VERBS

# Every command, where it lives and the line `ccops --help` shows for it (at most SUMMARY_WIDTH
# characters, so none is cut at 80 columns). A command's module is imported only when that command
# runs (or its own --help is asked for), so `ccops --help` and every command pay for click and
# ccops.errors only. "verb:NAME" is a verb of the registry with command=True (cli/verb_cmd.py).
# tests/cli/test_lazy_commands.py holds this table to the commands.
COMMANDS: dict[str, tuple[str, str]] = {
    "backups": ("ccops.cli.backups_cmd:backups", "Backups at the sites' targets, checked against the records."),
    "comply": ("ccops.cli.comply_cmd:comply", "Check hosts against site policy and accounts, or fix them."),
    "completion": ("ccops.cli.completion_cmd:completion", "Shell completion for bash, zsh or fish."),
    "content": ("ccops.cli.content_cmd:content", "Approved patch content: signed snapshots per site."),
    "decommission": ("ccops.cli.decommission_cmd:decommission", "Take retiring hosts out of service for good."),
    "deploy": ("ccops.cli.deploy_cmd:deploy", "Image planned machines over the network and make them active."),
    "host": ("ccops.cli.host_cmd:host", "What ccops knows about one host, and what changed on it."),
    "hostkey": ("ccops.cli.hostkey_cmd:hostkey", "SSH host keys: a changed or unknown key is refused."),
    "image": ("ccops.cli.image_cmd:image", "Golden images per business line and OS variant."),
    "inventory": ("ccops.cli.inventory_cmd:inventory", "Validate and read the site inventory."),
    "lab": ("ccops.cli.lab_cmd:lab", "A local fleet of Debian hosts in podman containers."),
    "node": ("ccops.cli.node_cmd:node", "A site's execution node, which runs the site's batches."),
    "notify": ("ccops.cli.notify_cmd:notify", "Messages to mail, webhooks and chat, by notify.yml."),
    "plan": ("ccops.cli.plan_cmd:plan", "Show what a command would do, without touching a host."),
    "quarantine": ("ccops.cli.quarantine_cmd:quarantine", "Hold hosts apart from their site until put right."),
    "reapply": ("ccops.cli.reapply_cmd:reapply", "Patch again hosts whose approved patch was taken back."),
    "remediate": ("ccops.cli.remediate_cmd:remediate", "Fix chosen CVEs in waves, proven by re-inspection."),
    "report": ("ccops.cli.fleet_cmd:report", "The fleet report: compliance, patches, risks, runs."),
    "resume": ("ccops.cli.resume_cmd:resume", "Continue a halted, interrupted or killed run."),
    "risks": ("ccops.cli.fleet_cmd:risks", "The early-warning list: updates, disks, services, runs."),
    "rollback": ("ccops.cli.backups_cmd:rollback", "Return one host to a verified backup."),
    "runs": ("ccops.cli.runs_cmd:runs", "Run history: who ran what, when, with what result."),
    "schedule": ("ccops.cli.schedule_cmd:schedule", "Unattended runs from schedules.yml, fired by systemd timers."),
    "software": ("ccops.cli.software_cmd:software", "Applications from the software catalogue, per site."),
    "vulns": ("ccops.cli.vulns_cmd:vulns", "Vulnerabilities per host and CVE, from snapshot changelogs."),
    # the registry's verbs with command=True, each with its Verb.short line
    **{name: (f"verb:{name}", verb.short or verb.summary) for name, verb in VERBS.items() if verb.command},
}
SUMMARY_WIDTH = 62

# The sections of `ccops --help`, in the order an operator meets them; a command in none of them
# is listed under "Other commands" (so a new command is never hidden).
SECTIONS: dict[str, tuple[str, ...]] = {
    "Inventory and content": ("inventory", "host", "hostkey", "content", "image"),
    "Plan": ("plan",),
    "Change hosts": (
        "inspect",
        "patch",
        "reapply",
        "remediate",
        "rollback",
        "comply",
        "quarantine",
        "software",
        "deploy",
        "decommission",
        "resume",
        "schedule",
    ),
    "Fleet": ("risks", "vulns", "report", "runs", "backups", "notify", "node"),
    "Lab and shell": ("lab", "completion"),
}
for _name, _verb in VERBS.items():  # a registry verb not placed above is listed at the end of its section
    if _verb.command and not any(_name in names for names in SECTIONS.values()):
        SECTIONS[_verb.section] += (_name,)


def load_command(name: str) -> click.Command:
    """The command ``name`` of COMMANDS, imported now, with the offline gate in front of it."""
    from ccops.cli.connecting import gate_command

    where, summary = COMMANDS[name]
    if where.startswith("verb:"):
        from ccops.cli.verb_cmd import verb_command

        command = verb_command(VERBS[where.removeprefix("verb:")])
    else:
        module, _, attribute = where.partition(":")
        command = getattr(importlib.import_module(module), attribute)
    gate_command(name, command)  # an offline inventory is refused before a connecting command's code runs
    command.short_help = summary  # the line `ccops --help` shows, loaded or not
    if name == "plan":  # its verbs in its --help; the registry's internal names refused (cli/plan_verbs.py)
        from ccops.cli.plan_verbs import teach

        teach(command)
    from ccops.cli.completion import complete_names

    complete_names(command)
    return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported when used; its help lists them from COMMANDS."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loaded: dict[str, click.Command] = {}
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def commands(self) -> dict[str, click.Command]:
        """Every command, all imported: for whatever walks the whole tree (tests, documentation)."""
        return {name: self._load(name) for name in COMMANDS}

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        if value:
            raise TypeError("ccops commands are declared in COMMANDS")

    def _load(self, name: str) -> click.Command:
        if name not in self._loaded:
            self._loaded[name] = load_command(name)
        return self._loaded[name]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name) if cmd_name in COMMANDS else None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands by section, from COMMANDS' lines, importing nothing."""
        listed = [name for names in SECTIONS.values() for name in names if name in COMMANDS]
        others = tuple(name for name in self.list_commands(ctx) if name not in listed)
        for title, names in {**SECTIONS, "Other commands": others}.items():
            rows = [(name, COMMANDS[name][1]) for name in names if name in COMMANDS]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


EPILOG = "\n".join(
    [
        "\b",
        "Exit codes:",
        *(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items()),
        "\b",
        "Start with:  ccops lab up && ccops inspect && ccops host show lab-deb12-01",
    ]
)


@click.group(
    cls=LazyGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="ccops")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Lifecycle operations for call-centre terminals and servers.

    ccops reads a YAML inventory grouped by call-centre site and runs Ansible
    playbooks over it: inspection; patching in waves with verified backups and
    rollback; compliance; software from a catalogue; images; decommissioning
    with evidence. Every run leaves a record (ccops runs list). Review a run
    first with ccops plan COMMAND; every command explains itself with --help.
    """
    ctx.ensure_object(dict)["debug"] = debug
    from ccops.notify.wiring import install  # notify hears of run ends, though run/ never imports it

    install()


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
