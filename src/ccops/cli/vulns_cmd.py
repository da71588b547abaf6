"""ccops vulns: per host and CVE, fixable, fixed, no fix yet or not affected; ccops vulns import FILE.

Reads the inventory, the records' newest asset records and the site's content snapshots on this
controller: it contacts no host.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ccops.cli.options import (
    build_selector,
    change_id_option,
    inventory_option,
    output_option,
    resolve_inventory,
    selector_options,
)
from ccops.cli.output import echo, emit_json, table
from ccops.errors import UsageError
from ccops.text.safe_text import visible

if TYPE_CHECKING:
    from ccops.vulns.classify import Row

STATE_CHOICES = ("fixable", "no_fix_yet", "fixed", "not_affected", "damaged")
URGENCY_CHOICES = ("critical", "emergency", "high", "medium", "low", "unimportant", "unknown")
CSV_COLUMNS = ("host", "site", "cve", "state", "urgency", "package", "installed", "fixing", "snapshot", "first_seen",
               "age_days", "origin", "detail")  # fmt: skip
_CVE = re.compile(r"CVE-[0-9]{4}-[0-9]{4,7}")
# a spreadsheet runs a cell starting with one of these as a formula (full-width forms too)
_FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def _cve_ids(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if not _CVE.fullmatch(value.upper()):
            raise UsageError(f"--cve {visible(value[:40])!r}: not a CVE id (CVE-YYYY-NNNN)")
    return tuple(v.upper() for v in values)


@click.group(invoke_without_command=True)
@inventory_option
@selector_options
@click.option("--cve", "cves", multiple=True, callback=_cve_ids, help="Only this CVE id (repeatable).")
@click.option("--urgency", "urgencies", multiple=True, type=click.Choice(URGENCY_CHOICES), help="Only this urgency.")
@click.option("--state", "states", multiple=True, type=click.Choice(STATE_CHOICES), help="Only this state.")
@output_option("text", "json", "csv")
@click.pass_context
def vulns(
    ctx: click.Context,
    /,
    inventory: Path | None,
    cves: tuple[str, ...],
    urgencies: tuple[str, ...],
    states: tuple[str, ...],
    output: str,
    **selectors: tuple[str, ...],
) -> None:
    """Vulnerabilities per host and CVE, from the changelogs of the site's content snapshots.

    fixable: a snapshot holds the fixing version and the host's newest inspection has a lower one;
    fixed: the installed version is at least the fixing one; no_fix_yet and not_affected come from
    an imported security tracker export (ccops vulns import). AGE counts from the first snapshot
    that offered the fix to the host.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ccops.inventory.load import load_inventory
    from ccops.inventory.select import select
    from ccops.run import open_store
    from ccops.vulns.fleet import fleet_rows

    model = load_inventory(resolve_inventory(inventory))
    hosts = select(model, build_selector(**selectors)).hosts
    found, never = fleet_rows(model, open_store(), hosts)
    rows = [
        r
        for r in found
        if (not cves or r.cve in cves)
        and (not urgencies or r.urgency in urgencies)
        and (not states or r.state in states)
    ]
    rows.sort(key=_order)
    if output == "json":
        emit_json({"rows": [r.as_dict() for r in rows], "counts": _counts(rows), "never_inspected": never})
    elif output == "csv":
        echo(to_csv(rows), nl=False)  # cells made inert by _cell: the check passes them unchanged
    elif not rows:
        echo("no vulnerability found for the chosen hosts (see: ccops content snapshot, ccops vulns import)")
    else:
        echo(table([_text_row(r) for r in rows], ["HOST", "CVE", "URGENCY", "STATE", "PACKAGE", "INSTALLED",
                                                   "FIXING", "AGE", "DETAIL"]))  # fmt: skip
        echo(", ".join(f"{n} {state}" for state, n in _counts(rows).items()))
    if never and output == "text":
        echo(f"{len(never)} Debian host(s) never inspected, not listed (ccops inspect): {', '.join(never[:10])}"
             + (" ..." if len(never) > 10 else ""))  # fmt: skip


def _order(row: Row) -> tuple[int, int, str, str, str]:
    from ccops.vulns.classify import STATES, URGENCY_ORDER

    urgency = URGENCY_ORDER.index(row.urgency) if row.urgency in URGENCY_ORDER else len(URGENCY_ORDER)
    return STATES.index(row.state), urgency, row.host, row.cve, row.package


def _counts(rows: list[Row]) -> dict[str, int]:
    counts = {state: sum(1 for r in rows if r.state == state) for state in STATE_CHOICES}
    return {state: n for state, n in counts.items() if n}


def _text_row(row: Row) -> list[str]:
    age = "-" if row.age_days is None else f"{row.age_days:.1f}d"
    return [row.host, row.cve or "-", row.urgency, row.state, row.package, row.installed or "-", row.fixing or "-",
            age, row.detail]  # fmt: skip


def to_csv(rows: list[Row]) -> str:
    """One row per host and CVE; values as text, never as formulas, controls shown as escapes."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = row.as_dict()
        writer.writerow([_cell(values[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> str:
    text = visible("" if value is None else value)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


@vulns.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@inventory_option
@click.option("--site", "sites", multiple=True, help="Only for this site code (repeatable). Default: every site.")
@change_id_option(False, "The change this import belongs to (required unless --dry-run); recorded in its manifest.")
@click.option(
    "--dry-run", is_flag=True, help="Parse FILE and show what would be kept and where; build and stage nothing."
)
def import_export(
    file: Path, inventory: Path | None, sites: tuple[str, ...], change_id: str | None, dry_run: bool
) -> None:
    """Import the Debian security tracker's JSON export from FILE for the inventory's sites.

    It adds the no_fix_yet and not_affected classes. What is kept is signed with the inventory's
    key and staged on each site's distribution point beside the snapshots, like a snapshot; only
    then does it replace the site's previous import. ccops vulns uses an import only while its
    signature and sha256 verify.
    """
    from ccops.checksums import sha256_file
    from ccops.inventory.load import load_inventory
    from ccops.vulns import tracker

    inventory_path = resolve_inventory(inventory)
    model = load_inventory(inventory_path)
    unknown = [s for s in sites if s not in model.sites]
    if unknown:
        raise UsageError(f"--site {visible(unknown[0])!r}: no such site; the inventory has: {', '.join(model.sites)}")
    if not dry_run and change_id is None:
        raise UsageError("ccops vulns import needs --change-id ID (or --dry-run to see what it would keep)")
    imported = tracker.parse_export(file)
    chosen = sorted(set(sites) or model.sites)
    skipped = f"; {imported.skipped} entries left out (not in the export's shape)" if imported.skipped else ""
    name = visible(str(file))
    if dry_run or change_id is None:  # None only with --dry-run (refused above otherwise)
        echo(
            f"would keep {imported.kept} CVE entries of {len(imported.data)} source packages from {name} "
            f"(sha256 {sha256_file(file)}){skipped}"
        )
        for site in chosen:
            point = model.sites[site].distribution_point
            echo(
                f"  {site}: signed and staged on {visible(str(point.get('host') or '(no point)'))} under "
                f"{visible(str(point.get('path') or '(no path)'))}/content/tracker-<id>/"
            )
        return
    from ccops.runner.progress import Progress

    done = tracker.import_export(inventory_path, model, chosen, file, imported, change_id, Progress(enabled=True))
    echo(f"imported {imported.kept} CVE entries from {name} for {', '.join(chosen)}{skipped}")
    for site, manifest in done.items():
        echo(f"  {site}: {manifest['id']} signed and staged (runs {', '.join(manifest['runs'])})")
