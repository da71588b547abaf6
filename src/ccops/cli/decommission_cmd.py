"""ccops decommission: retire hosts for good, behind guards that refuse before any host is touched."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

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
)
from ccops.cli.output import echo
from ccops.errors import RefusedError


@click.command("decommission")
@inventory_option
@selector_options
@change_id_option(required=True, help="Change or ticket id; recorded with the run, the backups and the certificates.")
@click.option(
    "--confirm",
    "typed",
    metavar="NAMES",
    help="The exact names of the selected hosts (spaces or commas between them), for pipelines.",
)
@click.option("--include-servers", is_flag=True, help="Allow hosts whose role is a server (not a desktop).")
@batch_size_option()
@emergency_option()
@forks_option()
@plan_file_option()
@output_option()
@events_option
def decommission(
    inventory: Path | None,
    change_id: str,
    typed: str | None,
    include_servers: bool,
    batch_size: int | None,
    emergency: bool,
    forks: int,
    saved_plan: Path | None,
    output: str,
    **selectors: Any,
) -> None:
    """Take retiring hosts out of service for good.

    Per host: a final verified backup; access revoked (site hooks, declared
    local accounts and certificates, Windows domain membership; the
    operator's SSH key last); declared data paths sanitised (NIST SP 800-88
    clear: overwritten with zeros, read back, removed); the restore card
    switched off so nothing reverts at a boot; then power off or hand back (site
    setting). Each host gets a certificate (ccops runs certificate RUN HOST)
    and becomes lifecycle: retired, with the date, in its site file.

    Refused, nothing touched: a selected host not in state retiring, a server
    without --include-servers, more hosts than the site's cap
    (decommission.max_hosts, 10 by default), host names not typed exactly.
    Review first: ccops plan decommission [selectors].
    """
    from ccops.cli.reports import print_result
    from ccops.decommission.guards import check_typed_names, guard
    from ccops.inventory.load import load_inventory
    from ccops.run import RunRequest, execute, prepare
    from ccops.runner.progress import Progress

    if saved_plan is not None:  # the reviewed plan's inventory and selection, guarded again now
        from ccops.run.saved_plan import read_saved

        saved = read_saved(saved_plan)
        path, selector = saved.inventory, saved.selector
    else:
        path, selector = resolve_inventory(inventory), build_selector(**selectors)
    hosts = guard(load_inventory(path), selector, include_servers)
    names = sorted(h.name for h in hosts)
    options = {"decommission_include_servers": include_servers, "decommission_confirmed": names}
    if saved_plan is not None:
        from ccops.cli.verb_cmd import prepare_saved
        from ccops.decommission.guards import VERB
        from ccops.verbs import get_verb

        given = {"inventory": inventory, **selectors, "batch_size": batch_size, "emergency": emergency}
        prepared = prepare_saved(get_verb(VERB), saved_plan, {**given, "change_id": change_id, "forks": forks}, options)
    else:
        request = RunRequest(
            path,
            "decommission",
            selector,
            change_id=change_id,
            batch_size=batch_size,
            forks=forks,
            emergency=emergency,
            options=options,
        )
        prepared = prepare(request)  # the plan confirmed is the plan that runs
    if sorted(h.name for h in prepared.plan.hosts) != names:
        raise RefusedError("the inventory changed while the guards were checked; nothing done, run again")
    check_typed_names(prepared.plan.hosts, typed if typed is not None else _ask(names))
    print_result(execute(prepared, Progress(enabled=output == "text")), output, "hosts")


def _ask(names: list[str]) -> str:
    if not sys.stdin.isatty():
        raise RefusedError("refusing to decommission without the host names typed: pass --confirm 'NAME ...'")
    echo(f"decommission {len(names)} host(s), for good: {', '.join(names)}", err=True)
    try:
        return str(click.prompt("type their names to confirm", default="", show_default=False, err=True))
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise RefusedError("no answer; nothing done") from None
