"""`ccops VERB` commands built from the verb registry (src/ccops/verbs.py).

Every verb gets the shared options, declared once (run_options): -i/--inventory,
the host selectors, --change-id (by the entry's change-id rule), --forks,
--plan FILE and --output; a changing verb also --batch-size, --emergency and
the confirmation its entry names (--yes, or --confirm NAMES for typed host
names). The verb's own settings (Verb.options) become options whose values
reach its playbook as extra variables. The plan approved is the plan that runs:
the entry's guard checks the selection, the plan is made once, the operator
approves it, execute() runs that plan (run_command: prepare_run, approve,
finish; a command with a shape of its own calls these pieces). `--plan FILE`
runs a plan saved by `ccops plan VERB --save FILE` and refuses when anything it
was made from has changed (ccops.run.saved_plan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ccops.cli.confirm import compact_plan, confirm, confirm_names, names_option
from ccops.cli.options import (
    batch_size_option,
    build_selector,
    change_id_option,
    emergency_option,
    events_option,
    forks_option,
    inventory_option,
    output_option,
    plan_file_option,
    resolve_inventory,
    selector_options,
    yes_option,
)
from ccops.verbs import CONFIRM_NAMES, CONFIRM_YES, Verb, VerbOption, hook


def verb_command(verb: Verb, name: str = "") -> click.Command:
    """The `ccops VERB` command of a registry entry (``name``: its word under a group, software apply)."""

    def command(**values: Any) -> None:
        run_command(verb, values)

    for decorate in reversed(run_options(verb)):
        command = decorate(command)
    return click.command(name or verb.name, help=verb.help or verb.summary)(command)


CHANGE_ID_HELP = {
    True: "Change or ticket id; recorded with the run and every backup.",
    False: "Change or ticket id recorded with the run.",
}


def run_options(verb: Verb) -> list[Callable[[Any], Any]]:
    """The options a run of ``verb`` takes, in --help order, each shared one declared once (cli/options.py)."""
    changing = verb.changes_hosts
    decorators: list[Callable[[Any], Any]] = [
        inventory_option,
        selector_options,
        change_id_option(required=verb.needs_change_id, help=CHANGE_ID_HELP[verb.needs_change_id]),
    ]
    if changing:
        decorators.append(batch_size_option())
    decorators += [_option(o) for o in verb.options]
    if changing:
        decorators.append(emergency_option())
    decorators.append(forks_option())
    if verb.asks == CONFIRM_YES:
        decorators.append(yes_option())
    elif verb.asks == CONFIRM_NAMES:
        decorators.append(names_option)
    decorators += [plan_file_option(), output_option(), events_option]
    return decorators


def _option(option: VerbOption) -> Callable[[Any], Any]:
    if option.is_flag:
        return click.option(option.flag, option.extravar, is_flag=True, help=option.help)
    kind = click.Choice(option.choices) if option.choices else str
    return click.option(
        option.flag,
        option.extravar,
        type=kind,
        default=option.default,
        show_default=option.default is not None,
        help=option.help,
    )


def run_command(verb: Verb, values: dict[str, Any]) -> None:
    """What every verb command does: plan once behind the verb's guard, approve, run that plan, print."""
    prepared = prepare_run(verb, values)  # the plan approved here is the plan that runs: execute() does not plan again
    approve(verb, prepared, values)
    finish(verb, prepared, values["output"])


def prepare_run(verb: Verb, values: dict[str, Any]) -> Any:
    """The run the command's ``values`` ask for (or its saved plan, checked again), behind ``verb.guard``."""
    from ccops.errors import RefusedError
    from ccops.run import RunRequest, prepare

    saved_path: Path | None = values.get("saved_plan")
    path, selector = _selection(values, saved_path)
    options = {o.extravar: values[o.extravar] for o in verb.options if o.extravar in values}
    approved, added = _guard(verb, path, selector, options)
    if saved_path is not None:
        prepared = prepare_saved(verb, saved_path, values, added)
    else:
        request = RunRequest(
            path,
            verb.name,
            selector,
            change_id=values.get("change_id"),
            batch_size=values.get("batch_size"),
            forks=values.get("forks", 25),
            emergency=values.get("emergency", False),
            options={**options, **added},
        )
        prepared = prepare(request)
    if approved is not None and sorted(h.name for h in prepared.plan.hosts) != approved:
        raise RefusedError("the inventory changed while the guards were checked; nothing done, run again")
    return prepared


def _selection(values: dict[str, Any], saved_path: Path | None) -> tuple[Path, Any]:
    if saved_path is not None:  # the reviewed plan's inventory and selection (its guards checked again now)
        from ccops.run.saved_plan import read_saved

        saved = read_saved(saved_path)
        return saved.inventory, saved.selector
    selectors = {k: values[k] for k in ("sites", "roles", "os_variants", "lines", "limit")}
    return resolve_inventory(values.get("inventory")), build_selector(**selectors)


def _guard(verb: Verb, path: Path, selector: Any, options: dict[str, Any]) -> tuple[list[str] | None, dict[str, Any]]:
    """The hosts ``verb.guard`` approves (None: it has none) and the options it adds to the run."""
    if not verb.guard:
        return None, {}
    from ccops.inventory.load import load_inventory

    approved, added = hook(verb.guard)(load_inventory(path), selector, options)
    return sorted(approved), dict(added)


def approve(verb: Verb, prepared: Any, values: dict[str, Any]) -> None:
    """Refuse what would be refused anyway, then ask as the verb's entry says (Verb.confirmation)."""
    from ccops.run.execute import refuse_content
    from ccops.run.prepare import refuse_offline

    # guards first: nobody is asked to approve a run that would be refused anyway
    refuse_offline(prepared.inventory)
    refuse_content(prepared.plan.content)
    plan = prepared.plan
    if verb.asks == CONFIRM_YES:
        change = prepared.request.change_id
        what = f"{verb.name} {len(plan.hosts)} host(s) in {len(plan.waves)} wave(s) under change {change}"
        confirm(what, values.get("yes", False), compact_plan(plan))
    elif verb.asks == CONFIRM_NAMES:
        names = sorted(h.name for h in plan.hosts)
        what = f"{verb.name} {len(names)} host(s)" + (", for good" if verb.retires_hosts else "")
        confirm_names(verb.name, what, names, values.get("typed"))


def finish(verb: Verb, prepared: Any, output: str) -> None:
    """Run the approved plan and print its result the verb's way."""
    from ccops.cli.facts_table import facts_table
    from ccops.cli.reports import print_result
    from ccops.run import execute
    from ccops.runner.progress import Progress

    shown = facts_table(verb.facts) if verb.facts else None  # a verb that gathers facts shows them
    print_result(execute(prepared, Progress(enabled=output == "text")), output, verb.report, shown)


# what a saved plan fixes: given on the command line as well, they must say the same as the plan
_PLANNED = ("inventory", "sites", "roles", "os_variants", "lines", "limit", "batch_size", "emergency")


def prepare_saved(verb: Verb, path: Path, values: dict[str, Any], extra: dict[str, Any] | None = None) -> Any:
    """The run a saved plan asks for, prepared again now; refused when anything it depends on changed,
    or when the command line sets what the plan fixes to something else. ``values``: the command's
    parameters; ``extra``: options the command itself adds to every request (decommission's names)."""
    from ccops.errors import UsageError
    from ccops.run import prepare
    from ccops.run.saved_plan import check_request, read_saved, refuse_if_changed

    saved = read_saved(path)
    check_request(path, saved, verb)
    context = click.get_current_context()
    typed = [
        name
        # a flag option is a permission the verb's guard reads at run time (decommission --include-servers):
        # ccops plan does not take it, so a saved plan never fixes it
        for name in (*_PLANNED, *(o.extravar for o in verb.options if not o.is_flag))
        if name in values
        and context.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
        # a verb's argument (software remove APP) may be typed again when it says what the plan says
        and values[name] != saved.options.get(name, _PLANNED)
    ]
    if typed:
        param = next(p for p in context.command.params if p.name == typed[0])
        flag = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
        raise UsageError(f"{flag} cannot be given with --plan (or must say what the plan says): {path} fixes it")
    request = saved.request(values.get("change_id"), values.get("forks", 25))
    defaults = {o.extravar: o.default for o in verb.options}  # what the command passes for an option not given
    prepared = prepare(replace(request, options={**defaults, **request.options, **(extra or {})}))
    refuse_if_changed(path, saved, prepared)
    return prepared
