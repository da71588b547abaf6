"""ccops plan VERB: what a run would do, for review, without touching hosts."""

from __future__ import annotations

from pathlib import Path

import click

from ccops.cli.options import build_selector, inventory_option, resolve_inventory, selector_options
from ccops.cli.output import emit_json


@click.command()
@click.argument("verb", nargs=-1, required=True)
@inventory_option
@selector_options
@click.option("--batch-size", type=click.IntRange(min=1), help="Override every site's rollout.batch_size.")
@click.option("--snapshot", help="patch: the approved content snapshot to plan from (default: each site's newest).")
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
    output: str,
    **selectors: tuple[str, ...],
) -> None:
    """Show the waves, batches, playbook, roles and non-default variables of VERB
    (a verb of more than one word, such as `software apply`, as its words).

    Reads the same inventory and rollout settings a real run reads; works on
    offline (planning-only) inventories such as inventory/example.
    """
    from ccops.plan_render import plan_json, plan_markdown, plan_text
    from ccops.run import RunRequest, prepare

    options = {"content_snapshot": snapshot} if snapshot else {}
    selector = build_selector(**selectors)
    request = RunRequest(resolve_inventory(inventory), "-".join(verb), selector, batch_size=batch_size, options=options)
    result = prepare(request).plan
    if output == "json":
        emit_json(plan_json(result))
    elif output == "markdown":
        click.echo(plan_markdown(result), nl=False)
    else:
        click.echo(plan_text(result))
