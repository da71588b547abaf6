"""ccops plan VERB: what a run would do, for review, without touching hosts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ccops.cli.options import (
    batch_size_option,
    build_selector,
    emergency_option,
    inventory_option,
    resolve_inventory,
    selector_options,
)
from ccops.cli.output import echo, emit_json


@click.command()
@click.argument("verb", nargs=-1, required=True)
@inventory_option
@selector_options
@batch_size_option()
@click.option("--snapshot", help="patch: the approved content snapshot to plan from (default: each site's newest).")
@click.option(
    "--reboot",
    type=click.Choice(["if_required", "always", "never"]),
    help="patch: the reboot policy the run will use (default: if_required).",
)
@emergency_option(help="Plan a run outside the sites' maintenance windows.")
@click.option("--check", "mode", flag_value="check", help="comply: plan the read-only check.")
@click.option("--fix", "mode", flag_value="fix", help="comply: plan the remediation (the default).")
@click.option("--image", "image_name", help="deploy: the golden image the run writes (required for deploy).")
@click.option("--converge-only", is_flag=True, help="deploy: plan converging deployed (active) machines only.")
@click.option("--rebuild", is_flag=True, help="deploy: plan re-imaging active machines (backup first).")
@click.option(
    "--save",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the plan as versioned JSON; `ccops VERB --plan FILE` runs exactly it.",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="markdown fits a pull-request comment; json a pipeline.",
)
def plan(
    verb: tuple[str, ...],
    inventory: Path | None,
    batch_size: int | None,
    snapshot: str | None,
    reboot: str | None,
    emergency: bool,
    mode: str | None,
    image_name: str | None,
    converge_only: bool,
    rebuild: bool,
    save: Path | None,
    output: str,
    **selectors: tuple[str, ...],
) -> None:
    """Show the waves, batches, playbook, roles and non-default variables of VERB
    (a verb of more than one word, such as `software apply`, as its words; a verb
    that takes an argument with it, as `ccops plan software remove APP`).

    Reads the same inventory and rollout settings a real run reads; works on
    offline (planning-only) inventories such as inventory/example.
    """
    from ccops.cli import plan_pins
    from ccops.cli.json_shapes import plan_out
    from ccops.plan.render import plan_json, plan_markdown, plan_text
    from ccops.run import RunRequest

    name, options = _verb_and_argument(verb)
    name = _in_mode(name, mode, verb)
    options = {**_run_options(name, {"--snapshot": snapshot, "--reboot": reboot}, emergency), **options}
    options = {**options, **(_image_settings(name, image_name, converge_only, rebuild) or {})}
    selector = build_selector(**selectors)
    request = RunRequest(
        resolve_inventory(inventory), name, selector, batch_size=batch_size, emergency=emergency, options=options
    )
    prepared = _prepare(request)
    result = prepared.plan
    pinned, image = plan_pins.pins(prepared), plan_pins.deploy_image(prepared.request.options)
    if save is not None:
        from ccops.run.saved_plan import plan_document, write_saved

        write_saved(save, plan_document(request, prepared))
    if output == "json":
        emit_json(plan_out(plan_pins.plan_json(plan_json(result), pinned, image)))
    elif output == "markdown":
        echo(plan_pins.plan_markdown(plan_markdown(result), pinned, image), nl=False)
    else:
        echo(plan_pins.plan_text(plan_text(result), pinned, image))


def _image_settings(name: str, image_name: str | None, converge_only: bool, rebuild: bool) -> dict[str, str] | None:
    """The image a verb that writes one is asked for (its registry hook); the flags refused for any other verb."""
    from ccops.errors import UsageError
    from ccops.verbs import VERBS, hook

    settings = VERBS[name].image_settings if name in VERBS else ""
    if not settings:
        flags = (("--image", image_name), ("--converge-only", converge_only), ("--rebuild", rebuild))
        if given := [flag for flag, on in flags if on]:
            raise UsageError(f"plan {name} takes no {given[0]}")
        return None
    if image_name is None:
        raise UsageError(f"plan {name} needs --image NAME: the plan names the image build the run writes")
    return dict(hook(settings)(image_name, converge_only, rebuild))


def _prepare(request: Any) -> Any:
    """The verb's own plan preparation (its registry hook), else the plain one."""
    from ccops.run import prepare
    from ccops.verbs import VERBS, hook

    own = VERBS[request.verb].prepare if request.verb in VERBS else ""
    return hook(own)(request) if own else prepare(request)


def _run_options(name: str, given: dict[str, str | None], emergency: bool) -> dict[str, str]:
    """The run's own options, as the verb's extra variables; an option the verb does not have is a usage error."""
    from ccops.errors import UsageError
    from ccops.verbs import VERBS

    verb = VERBS.get(name)
    if verb is None:
        return {}  # prepare names the unknown verb
    # what the run's command would pass when an option is not given, so plan and run agree
    out = {o.extravar: o.default for o in verb.options if o.default is not None}
    if emergency and not verb.changes_hosts:
        raise UsageError(f"plan {name}: --emergency is for verbs that change hosts")
    settings = {o.flag: o for o in verb.options}
    for flag, value in given.items():
        if value is None:
            continue
        if flag not in settings:
            raise UsageError(f"plan {name} takes no {flag}")
        out[settings[flag].extravar] = value
    return out


def _in_mode(name: str, mode: str | None, words: tuple[str, ...]) -> str:
    """The verb that --check or --fix picks among those sharing the named verb's playbook."""
    from ccops.errors import UsageError
    from ccops.verbs import VERBS

    if mode is None or name not in VERBS:
        return name
    playbook = VERBS[name].playbook
    picked = [n for n, v in VERBS.items() if v.mode == mode and v.playbook == playbook]
    if not picked:
        raise UsageError(f"plan {' '.join(words)} takes no --{mode}")
    return picked[0]


def _verb_and_argument(words: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """The registered verb the words start with, and a trailing word as its one setting.

    `plan software remove APP` reads as the software-remove verb with APP, the
    way `ccops software remove APP` takes it; unknown words stay one (unknown) verb.
    """
    from ccops.errors import UsageError
    from ccops.verbs import VERBS

    for cut in range(len(words), 0, -1):
        name = "-".join(words[:cut])
        if name not in VERBS:
            continue
        rest = words[cut:]
        if not rest:
            return name, {}
        settings = tuple(o for o in VERBS[name].options if not o.is_flag)  # a flag is its guard's, not the plan's
        if len(rest) == 1 and len(settings) == 1:
            return name, {settings[0].extravar: rest[0]}
        wanted = f"one argument ({settings[0].help.rstrip('.').lower()})" if len(settings) == 1 else "no argument"
        raise UsageError(f"plan {' '.join(words[:cut])} takes {wanted}, not {' '.join(rest)!r}")
    return "-".join(words), {}
