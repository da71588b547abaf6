"""ccops resume: continue a run that stopped, with the plan it was approved with."""

from __future__ import annotations

import click

from ccops.cli.confirm import confirm
from ccops.cli.options import events_option, output_option


@click.command()
@click.argument("run_id", metavar="RUN")
@click.option(
    "--keep-plan",
    is_flag=True,
    help="Continue the approved plan although the inventory changed since (the change is named).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (pipelines).")
@output_option()
@events_option
def resume(run_id: str, keep_plan: bool, yes: bool, output: str) -> None:
    """Continue a halted, interrupted or killed run with the plan it was
    approved with. Hosts that finished are not run again; every other host
    starts over with a new verified backup. An inventory edited since the
    run was planned stops the resume, naming the files, unless --keep-plan.
    A deploy converges the machines its killed attempt imaged or made active
    without imaging them again; one caught mid-imaging starts over."""
    from ccops.cli.reports import print_result
    from ccops.run import resume_run
    from ccops.runner.progress import Progress
    from ccops.verbs import get_verb

    confirm(f"resume run {run_id}", yes)
    result = resume_run(run_id, Progress(enabled=output == "text"), keep_plan=keep_plan)
    print_result(result, output, get_verb(result.verb).report)
