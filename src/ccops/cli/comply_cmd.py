"""ccops comply --check | --fix: the hosts against their sites' policies and accounts.

--check is read-only: every deviation, one line per host and policy, exit 2 when
any host is out of policy (or could not be checked). --fix is a changing run
like patch: waves and gates, --change-id, confirmation, maintenance windows, a
restore card re-baseline; it exits 2 when a host is still out of policy after it.
Both can write JUnit XML (--junit FILE) and the JSON result (--json FILE), and run a plan saved
by `ccops plan comply [check] --save FILE` with --plan FILE (refused when anything it depends on changed).
"""

from __future__ import annotations

from pathlib import Path

import click

from ccops.cli.confirm import confirm
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
from ccops.cli.output import OutputTarget
from ccops.errors import UsageError


@click.command()
@inventory_option
@selector_options
@click.option("--check", "mode", flag_value="check", help="Report every deviation; change nothing.")
@click.option("--fix", "mode", flag_value="fix", help="Remediate in waves (asks first; --yes for pipelines).")
@change_id_option(required=False, help="Change or ticket id (required with --fix); recorded with the run.")
@batch_size_option(when="--fix: ")
@emergency_option(when="--fix: ")
@forks_option()
@yes_option(when="--fix: ")
@plan_file_option()
@click.option("--junit", "junit_file", type=OutputTarget(), help="Also write JUnit XML here (-: stdout).")
@click.option("--json", "json_file", type=OutputTarget(), help="Also write the JSON result here (-: stdout).")
@output_option()
@events_option
def comply(
    inventory: Path | None,
    mode: str | None,
    change_id: str | None,
    batch_size: int | None,
    emergency: bool,
    forks: int,
    yes: bool,
    saved_plan: Path | None,
    junit_file: Path | str | None,
    json_file: Path | str | None,
    output: str,
    **selectors: tuple[str, ...],
) -> None:
    """Check hosts against their sites' policies and accounts, or bring them in line.

    Policies (USB storage, a firewall allow-list built from the inventory, deny
    lists, blocked sites, screen lock, required services, SSH/WinRM hardening)
    and accounts (people, service accounts, local administrators, revoked
    accounts) are declared in the site files. Review first: ccops plan comply.
    """
    from ccops.cli.reports import print_result
    from ccops.report.junit import compliance_junit
    from ccops.run import RunRequest, execute, prepare
    from ccops.runner.progress import Progress
    from ccops.text import strict_json
    from ccops.text.output_file import write_output

    if mode is None:
        raise UsageError("ccops comply needs --check (report) or --fix (remediate)")
    fix = mode == "fix"
    if not fix and (batch_size or emergency or yes):
        raise UsageError("--batch-size, --emergency and --yes go with --fix; --check changes nothing")
    if fix and not change_id:
        raise UsageError("ccops comply --fix needs --change-id (recorded with the run)")
    verb = "comply" if fix else "comply-check"
    if saved_plan is not None:  # ccops plan comply [check] --save FILE: exactly that plan, or refused
        from ccops.cli.verb_cmd import prepare_saved
        from ccops.verbs import get_verb

        given = {"inventory": inventory, **selectors, "batch_size": batch_size, "emergency": emergency}
        prepared = prepare_saved(get_verb(verb), saved_plan, {**given, "change_id": change_id, "forks": forks})
    else:
        request = RunRequest(
            resolve_inventory(inventory),
            verb,
            build_selector(**selectors),
            change_id=change_id,
            batch_size=batch_size,
            forks=forks,
            emergency=emergency,
        )
        prepared = prepare(request)  # the plan confirmed is the plan that runs
    if fix:
        plan = prepared.plan
        confirm(f"fix policy on {len(plan.hosts)} host(s) in {len(plan.waves)} wave(s) under change {change_id}", yes)
    result = execute(prepared, Progress(enabled=output == "text"))
    if junit_file:
        write_output(junit_file, compliance_junit(result), "--junit")
    if json_file:
        write_output(json_file, strict_json.dumps({**result.as_dict(), "reports": result.reports}) + "\n", "--json")
    print_result(result, output, "compliance")
