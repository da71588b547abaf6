"""ccops risks and ccops report: the fleet as a site manager reads it every morning."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ccops.cli.options import inventory_option, output_option, resolve_inventory
from ccops.cli.output import OutputTarget, current_schema, echo, emit_json, envelope, table, written
from ccops.errors import UsageError
from ccops.text.output_file import STDOUT

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.report.risks import FleetState
    from ccops.store.records import Store

site_option = click.option("--site", "sites", multiple=True, help="Only this site code (repeatable). Default: all.")


def _load(inventory: Path | None, sites: tuple[str, ...]) -> tuple[Inventory, FleetState, list[str], Store]:
    from ccops.inventory.load import load_inventory
    from ccops.report.risks import load_state
    from ccops.run import open_store
    from ccops.vulns.risks import with_vulns

    model = load_inventory(resolve_inventory(inventory))
    unknown = [s for s in sites if s not in model.sites]
    if unknown:
        raise UsageError(f"--site {unknown[0]!r}: no such site; the inventory has: {', '.join(sorted(model.sites))}")
    store = open_store()  # opened once: the report's trends read the same store
    state = with_vulns(load_state(store), model, store)
    return model, state, sorted(set(sites)) or sorted(model.sites), store


@click.command()
@inventory_option
@site_option
@output_option()
def risks(inventory: Path | None, sites: tuple[str, ...], output: str) -> None:
    """The early-warning list: overdue security updates, full or fast-growing disks, hosts not seen,
    failed services, hosts out of policy, runs that failed or halted.

    Thresholds are per site (site.risk in the site file); see ccops.report.risks.RISK_DEFAULTS.
    """
    from ccops.report.risks import risk_list

    model, state, chosen, _ = _load(inventory, sites)
    found = risk_list(model, state, set(chosen))
    if output == "json":
        emit_json({"generated": state.now.isoformat(timespec="seconds"), "sites": chosen, "risks": found})
        return
    if not found:
        echo(f"no risk found ({', '.join(chosen)})")
        return
    rows = [[r["site"] or "-", r["host"] or "(run)", r["kind"], r["detail"]] for r in found]
    echo(table(rows, ["SITE", "HOST", "RISK", "DETAIL"]))
    echo(f"{len(found)} risk(s)")


class ReportFormat(click.Choice[str]):
    """-o/--output is a format, as in every command; a file name there is the old spelling: say so."""

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, str) and value not in self.choices:
            self.fail(
                f"{value!r} is not a format ({', '.join(self.choices)}); write to a file with --to FILE", param, ctx
            )
        return super().convert(value, param, ctx)


@click.command()
@inventory_option
@site_option
@click.option(
    "-o",
    "--output",
    "fmt",
    type=ReportFormat(("html", "json", "csv")),
    default="html",
    show_default=True,
    help="html for people; json for pipelines; csv one row per host.",
)
@click.option(
    "--to",
    "target",
    metavar="FILE",
    type=OutputTarget(),
    default=STDOUT,
    help="Write to FILE (a pipe or device is written, never replaced; default and -: stdout).",
)
# the format's earlier name, kept as a synonym: it never meant anything else
@click.option("--format", "old_format", hidden=True, type=ReportFormat(("html", "json", "csv")))
def report(
    inventory: Path | None, sites: tuple[str, ...], fmt: str, target: Path | str, old_format: str | None
) -> None:
    """The fleet report: per site and OS variant, compliance, pending patches, risks, recent runs.

    html is one self-contained page (no script, nothing fetched); json holds every number the page
    shows; csv is one row per host.
    """
    from ccops.cli.json_shapes import report_out
    from ccops.cli.output import indented_json
    from ccops.report.html import render_html
    from ccops.report.morning import build_report, to_csv
    from ccops.report.trends import read_trends
    from ccops.text.output_file import write_output

    fmt = old_format or fmt
    model, state, chosen, store = _load(inventory, sites)
    document = build_report(model, state, chosen, read_trends(store, model, chosen, state.now))
    if fmt == "html":
        text = render_html(document)
    elif fmt == "csv":
        text = to_csv(document)
    else:
        # strict_json.dumps's text, without its pure-Python indenting
        text = indented_json(envelope(report_out(document), current_schema())) + "\n"
    write_output(target, text, "--to")
    written(target, "report")
