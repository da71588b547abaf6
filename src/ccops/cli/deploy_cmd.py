"""ccops deploy --image NAME [selectors] --change-id ID: new machines imaged over the network.

`ccops deploy --plan FILE` runs a plan saved by `ccops plan deploy --image NAME --save FILE`: the
machines, inventory, image definition and build it pins, or refused naming what changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from ccops.cli.confirm import confirm
from ccops.cli.options import (
    batch_size_option,
    build_selector,
    change_id_option,
    emergency_option,
    events_option,
    inventory_option,
    output_option,
    plan_file_option,
    resolve_inventory,
    selector_options,
    yes_option,
)
from ccops.cli.output import echo


@click.command("deploy")
@inventory_option
@selector_options
@click.option("--image", "image_name", help="Golden image to deploy (images/golden/NAME.yml); required without --plan.")
@change_id_option(required=True, help="Change or ticket id; recorded with the run.")
@batch_size_option()
@click.option(
    "--converge-only",
    is_flag=True,
    help="Converge deployed (active) machines again without imaging them: changes nothing on a deployed machine.",
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="Re-image active machines: a verified backup of their declared paths first, restored after.",
)
@emergency_option()
@yes_option()
@plan_file_option()
@output_option()
@events_option
def deploy(
    image_name: str | None,
    converge_only: bool,
    rebuild: bool,
    yes: bool,
    saved_plan: Path | None,
    output: str,
    **values: Any,
) -> None:
    """Image planned machines over the network, converge them and make them active.

    Each selected machine (lifecycle planned, known by its mac) network-boots;
    the site's distribution point serves the iPXE script, the imaging kernel
    and initramfs, and the image staged there (ccops image stage). The imager
    checks the image's sha256 against the build manifest before it writes a
    byte, writes it and the machine's seed, and reboots into it. ccops then
    records the host key the machine made at its first boot, converges it
    (host name, image stamp) and records its asset record with the image
    version, and edits its site file: planned -> active. A machine that fails
    is reported with its phase (pxe, download, checksum, write, first-boot,
    converge) and stays planned. Waves, gates and the site's batch size as
    for every changing verb; machines of one batch are imaged at once.
    A killed deploy goes on with ccops resume RUN: machines it imaged or made
    active are converged, not imaged again; one caught mid-imaging starts over.

    --rebuild re-images active machines: a verified backup of the paths
    their role declares (backup_paths) first (none, no rebuild), then the
    network boot, and the declared paths restored after the converge.

    Review first: ccops plan deploy --image NAME [selectors] --save FILE, then
    ccops deploy --plan FILE --change-id ID runs exactly that plan.
    """
    from ccops.cli.reports import print_result
    from ccops.errors import UsageError
    from ccops.image.deploy import engine_for
    from ccops.image.deploy_plan import IMAGE, MODE, VERSION, deploy_options, lifecycle_for, refuse_other_os
    from ccops.run import RunRequest, execute, prepare
    from ccops.run.prepare import refuse_offline
    from ccops.runner.progress import Progress

    if saved_plan is not None:
        prepared = _prepare_saved(
            saved_plan, {"image_name": image_name, "converge_only": converge_only, "rebuild": rebuild, **values}
        )
    elif image_name is None:
        raise UsageError("ccops deploy needs --image NAME (or --plan FILE, a plan saved by ccops plan deploy)")
    else:
        selectors = {k: values.pop(k) for k in ("sites", "roles", "os_variants", "lines", "limit")}
        options = deploy_options(image_name, converge_only, rebuild)
        request = RunRequest(
            resolve_inventory(values.pop("inventory")),
            "deploy",
            build_selector(**selectors),
            change_id=values.pop("change_id"),
            batch_size=values.pop("batch_size", None),
            emergency=values.pop("emergency", False),
            options=options,
        )
        prepared = prepare(request, lifecycle=lifecycle_for(options))
    options, plan = prepared.request.options, prepared.plan
    # guards first: nobody is asked to approve a run that would be refused (`--plan` skips the CLI's offline gate)
    refuse_offline(prepared.inventory)
    refuse_other_os(options, plan.hosts)
    mode = options[MODE]
    what = "converge" if mode == "converge" else f"{mode} with {options[IMAGE]} {options[VERSION]}"
    change_id = prepared.request.change_id
    confirm(f"{what} {len(plan.hosts)} host(s) in {len(plan.waves)} wave(s) under change {change_id}", yes)
    progress = Progress(enabled=output == "text")
    engine = engine_for(prepared, say=lambda m: echo(m, err=True))
    print_result(execute(prepared, progress, engine), output, "hosts")


# what a saved plan fixes: given on the command line as well, each is refused (the plan says it)
_FIXED = {
    "inventory": "--inventory",
    "sites": "--site",
    "roles": "--role",
    "os_variants": "--os",
    "lines": "--line",
    "limit": "--limit",
    "batch_size": "--batch-size",
    "emergency": "--emergency",
    "image_name": "--image",
    "converge_only": "--converge-only",
    "rebuild": "--rebuild",
}


def _prepare_saved(path: Path, values: dict[str, Any]) -> Any:
    """The deploy a saved plan asks for, prepared again now; refused when anything it pins changed."""
    from ccops.errors import CcopsError, UsageError
    from ccops.image.deploy_plan import SETTINGS, VERB, lifecycle_for, saved_settings_problem
    from ccops.run import prepare
    from ccops.run.saved_plan import check_request, read_saved, refuse_if_changed
    from ccops.verbs import get_verb

    context = click.get_current_context()
    typed = [flag for name, flag in _FIXED.items() if context.get_parameter_source(name) == ParameterSource.COMMANDLINE]
    if typed:
        raise UsageError(f"{typed[0]} cannot be given with --plan: {path} fixes it")
    saved = read_saved(path)
    check_request(path, saved, get_verb(VERB), own=SETTINGS)
    request = saved.request(values.get("change_id"), forks=25)
    prepared = prepare(request, lifecycle=lifecycle_for(request.options))
    refuse_if_changed(path, saved, prepared)  # an image definition edited since is named here, first
    if problem := saved_settings_problem(saved.options):
        raise CcopsError(f"{path}: not a ccops plan ({problem})")
    return prepared
