"""Options shared by many commands, declared once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ccops.errors import UsageError
from ccops.paths import default_inventory

if TYPE_CHECKING:  # imported when called: ccops --help stays fast
    from ccops.inventory.select import Selector

OUTPUTS = ("text", "json")
F = TypeVar("F", bound=Callable[..., Any])
# what click.option(...) gives back: it adds the option to the command function it decorates
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def check_change_id(value: str | None) -> str | None:
    """Refuse, in one line, a change id that is empty, too long or carries control characters."""
    if value is None:
        return None
    from ccops.run.request import change_id_problem  # ccops --help must not import the runner

    problem = change_id_problem(value)
    if problem:
        raise UsageError(f"--change-id {value[:40]!r}{'...' if len(value) > 40 else ''} {problem}")
    return value


def change_id_option(required: bool, help: str) -> Decorator:
    return click.option(
        "--change-id", required=required, help=help, callback=lambda ctx, param, value: check_change_id(value)
    )


# The options every run command shares, declared here once; `when` prefixes the help of a command
# where the option applies to one mode only (comply: "--fix: ").
def batch_size_option(when: str = "") -> Decorator:
    help = "Override every site's rollout.batch_size."
    return click.option(
        "--batch-size", type=click.IntRange(min=1), help=f"{when}{help[0].lower()}{help[1:]}" if when else help
    )


def emergency_option(when: str = "", help: str = "Run outside the sites' maintenance windows.") -> Decorator:
    return click.option("--emergency", is_flag=True, help=f"{when}{help[0].lower()}{help[1:]}" if when else help)


def forks_option() -> Decorator:
    return click.option(
        "--forks", type=click.IntRange(1, 500), default=25, show_default=True, help="Hosts Ansible works on at once."
    )


def yes_option(when: str = "", who: str = "pipelines") -> Decorator:
    help = f"Do not ask for confirmation ({who})."
    return click.option("--yes", is_flag=True, help=f"{when}{help[0].lower()}{help[1:]}" if when else help)


def plan_file_option() -> Decorator:
    return click.option(
        "--plan",
        "saved_plan",
        type=click.Path(path_type=Path),  # read_saved names a folder or a missing file in one line
        help="Run exactly this saved plan (ccops plan VERB --save FILE); refused if what it depends on changed.",
    )


def inventory_option(func: F) -> F:
    return click.option(
        "-i",
        "--inventory",
        "inventory",
        type=click.Path(path_type=Path),
        default=None,
        help="Inventory folder (or its ccops.yml). Default: $CCOPS_INVENTORY, else the lab's.",
    )(func)


def resolve_inventory(path: Path | None) -> Path:
    return path or default_inventory()


def output_option(*choices: str) -> Decorator:
    return click.option(
        "-o",
        "--output",
        type=click.Choice(choices or OUTPUTS),
        default=(choices or OUTPUTS)[0],
        show_default=True,
        help="text for people; json for pipelines.",
    )


def selector_options(func: F) -> F:
    options = [
        click.option("--site", "sites", multiple=True, help="Only this site code (repeatable)."),
        click.option("--role", "roles", multiple=True, help="Only hosts of this role, e.g. agent_desktop."),
        click.option("--os", "os_variants", multiple=True, help="Only this OS variant, e.g. debian12, win11."),
        click.option("--line", "lines", multiple=True, help="Only this business line."),
        click.option(
            "-l", "--limit", "limit", multiple=True, help="Only hosts whose name matches (shell pattern, repeatable)."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_selector(
    sites: tuple[str, ...],
    roles: tuple[str, ...],
    os_variants: tuple[str, ...],
    lines: tuple[str, ...],
    limit: tuple[str, ...],
) -> Selector:
    from ccops.inventory.select import Selector

    return Selector(sites=sites, roles=roles, os=os_variants, lines=lines, limit=limit)


def events_option(func: F) -> F:
    """--events FILE on every command that runs hosts: the run as it happens, one JSON line per event
    (ccops.run.events_stream). Taken here, once: the command's own code never sees it."""

    def open_events(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
        if value is None:
            return
        from ccops.run.events_stream import EventStream, events_to
        from ccops.text.output_file import check_target

        check_target(value, "--events")  # a folder or a missing one: refused before any work
        ctx.with_resource(events_to(EventStream(value)))  # the run's loop finds it; closed when the command ends

    return click.option(
        "--events",
        metavar="FILE",
        expose_value=False,
        callback=open_events,
        help="Write the run as it happens to FILE (- for standard output, a pipe): one JSON object a line.",
    )(func)
