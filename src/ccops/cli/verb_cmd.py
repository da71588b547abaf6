"""`ccops VERB` commands built from the verb registry (src/ccops/verbs.py).

Every verb gets the shared options, declared once: -i/--inventory, the host
selectors, --change-id (required when the verb changes hosts), --forks and
--output; a changing verb also --batch-size, --emergency and --yes, and asks
before it runs. The verb's own settings (Verb.options) become options whose
values reach its playbook as extra variables. The plan confirmed is the plan
that runs: prepare once, check the guards, show the compact plan, confirm,
execute that plan. `--plan FILE` runs a plan saved by `ccops plan VERB --save
FILE` and refuses when anything it was made from has changed (ccops.run.saved_plan).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ccops.cli.confirm import compact_plan, confirm
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
from ccops.verbs import Verb, VerbOption


def verb_command(verb: Verb) -> click.Command:
    def command(**values: Any) -> None:
        _run(verb, values)

    decorators: list[Callable[[Any], Any]] = [inventory_option, selector_options]
    if verb.changes_hosts:
        decorators += [
            change_id_option(required=True, help="Change or ticket id; recorded with the run and every backup."),
            batch_size_option(),
        ]
    else:
        decorators.append(change_id_option(required=False, help="Change or ticket id recorded with the run."))
    decorators += [_option(o) for o in verb.options]
    if verb.changes_hosts:
        decorators.append(emergency_option())
    decorators.append(forks_option())
    if verb.changes_hosts:
        decorators.append(yes_option())
    decorators.append(plan_file_option())
    decorators += [output_option(), events_option]
    for decorate in reversed(decorators):
        command = decorate(command)
    return click.command(verb.name, help=verb.help or verb.summary)(command)


def _option(option: VerbOption) -> Callable[[Any], Any]:
    kind = click.Choice(option.choices) if option.choices else str
    return click.option(
        option.flag,
        option.extravar,
        type=kind,
        default=option.default,
        show_default=option.default is not None,
        help=option.help,
    )


def _run(verb: Verb, values: dict[str, Any]) -> None:
    from ccops.run import RunRequest, prepare

    saved_path: Path | None = values.pop("saved_plan")
    if saved_path is not None:
        _run_saved(verb, saved_path, values)
        return
    selectors = {k: values.pop(k) for k in ("sites", "roles", "os_variants", "lines", "limit")}
    inventory: Path | None = values.pop("inventory")
    output = values.pop("output")
    request = RunRequest(
        resolve_inventory(inventory),
        verb.name,
        build_selector(**selectors),
        change_id=values.pop("change_id"),
        batch_size=values.pop("batch_size", None),
        forks=values.pop("forks"),
        emergency=values.pop("emergency", False),
        options={o.extravar: values.pop(o.extravar) for o in verb.options},
    )
    yes = values.pop("yes", False)
    prepared = prepare(request)  # the plan confirmed here is the plan that runs: execute() does not plan again
    _confirm_and_execute(verb, prepared, yes, output)


def _confirm_and_execute(verb: Verb, prepared: Any, yes: bool, output: str) -> None:
    from ccops.cli.facts_table import facts_table
    from ccops.cli.reports import print_result
    from ccops.run import execute
    from ccops.run.execute import refuse_content
    from ccops.run.prepare import refuse_offline
    from ccops.runner.progress import Progress

    # guards first: nobody is asked to approve a run that would be refused anyway
    refuse_offline(prepared.inventory)
    refuse_content(prepared.plan.content)
    if verb.changes_hosts:
        request = prepared.request
        plan = prepared.plan
        what = f"{verb.name} {len(plan.hosts)} host(s) in {len(plan.waves)} wave(s) under change {request.change_id}"
        confirm(what, yes, compact_plan(plan))
    shown = facts_table(verb.facts) if verb.facts else None  # a verb that gathers facts shows them
    print_result(execute(prepared, Progress(enabled=output == "text")), output, verb.report, shown)


# what a saved plan fixes: given on the command line as well, they must say the same as the plan
_PLANNED = ("inventory", "sites", "roles", "os_variants", "lines", "limit", "batch_size", "emergency")


def _run_saved(verb: Verb, path: Path, values: dict[str, Any]) -> None:
    """Run a saved plan: re-plan from its request and refuse when anything it depends on changed."""
    _confirm_and_execute(verb, prepare_saved(verb, path, values), values.get("yes", False), values["output"])


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
        for name in (*_PLANNED, *(o.extravar for o in verb.options))
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
