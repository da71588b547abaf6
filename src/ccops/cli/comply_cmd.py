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

from ccops.cli.options import (
    batch_size_option,
    change_id_option,
    emergency_option,
    events_option,
    forks_option,
    inventory_option,
    output_option,
    plan_file_option,
    selector_options,
    yes_option,
)
from ccops.cli.output import OutputTarget
from ccops.errors import UsageError
from ccops.verbs import VERBS, Verb

PLAYBOOK = "comply.yml"  # its check and fix entries share it


# its own command, not the factory's: one command, two registry entries (--check is read-only,
# --fix a changing run), and --junit/--json files; it runs them with the factory's shared pieces
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
    from ccops.cli.verb_cmd import approve, prepare_run
    from ccops.report.junit import compliance_junit
    from ccops.run import execute
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
    verb = _verb_in_mode(mode)
    given = {"inventory": inventory, **selectors, "change_id": change_id, "batch_size": batch_size}
    values = {**given, "emergency": emergency, "forks": forks, "yes": yes, "saved_plan": saved_plan}
    # --plan FILE (ccops plan comply [check] --save FILE): exactly that plan, or refused
    prepared = prepare_run(verb, values)
    approve(verb, prepared, values)  # --fix asks like every changing verb; --check changes nothing, asks nothing
    result = execute(prepared, Progress(enabled=output == "text"))
    if junit_file:
        write_output(junit_file, compliance_junit(result), "--junit")
    if json_file:
        write_output(json_file, strict_json.dumps({**result.as_dict(), "reports": result.reports}) + "\n", "--json")
    print_result(result, output, verb.report)


def _verb_in_mode(mode: str) -> Verb:
    """The registry entry of comply.yml that --check or --fix picks (Verb.mode)."""
    return next(v for v in VERBS.values() if v.playbook == PLAYBOOK and v.mode == mode)
