"""ccops deploy --image NAME [selectors] --change-id ID: new machines imaged over the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ccops.cli.confirm import confirm
from ccops.cli.options import (
    batch_size_option,
    build_selector,
    change_id_option,
    emergency_option,
    events_option,
    inventory_option,
    output_option,
    resolve_inventory,
    selector_options,
    yes_option,
)
from ccops.cli.output import echo


@click.command("deploy")
@inventory_option
@selector_options
@click.option("--image", "image_name", required=True, help="Golden image to deploy (images/golden/NAME.yml).")
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
@output_option()
@events_option
def deploy(image_name: str, converge_only: bool, rebuild: bool, yes: bool, output: str, **values: Any) -> None:
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
    """
    from ccops.cli.reports import print_result
    from ccops.errors import CcopsError, UsageError
    from ccops.image.build import cached_build
    from ccops.image.definition import load_image
    from ccops.image.deploy import engine_for
    from ccops.run import RunRequest, execute, prepare
    from ccops.runner.progress import Progress

    if converge_only and rebuild:
        raise UsageError("--converge-only and --rebuild exclude each other")
    img = load_image(image_name)
    built = cached_build(img)
    if built is None:
        raise CcopsError(f"{image_name} is not built (or its definition changed): ccops image build {image_name}")
    selectors = {k: values.pop(k) for k in ("sites", "roles", "os_variants", "lines", "limit")}
    inventory: Path | None = values.pop("inventory")
    request = RunRequest(
        resolve_inventory(inventory),
        "deploy",
        build_selector(**selectors),
        change_id=values.pop("change_id"),
        batch_size=values.pop("batch_size", None),
        emergency=values.pop("emergency", False),
        options={
            "ccops_image_name": img.name,
            "ccops_image_version": img.version,
            "ccops_deploy_mode": "converge" if converge_only else "rebuild" if rebuild else "image",
        },
    )
    prepared = prepare(request, lifecycle=("active",) if converge_only or rebuild else None)
    wrong = [h.name for h in prepared.plan.hosts if h.os != img.os]
    if wrong:
        raise CcopsError(f"{image_name} is a {img.os} image; not for {', '.join(wrong[:5])} (another OS variant)")
    plan = prepared.plan
    what = "converge" if converge_only else f"{'rebuild' if rebuild else 'image'} with {img.name} {img.version}"
    confirm(f"{what} {len(plan.hosts)} host(s) in {len(plan.waves)} wave(s) under change {request.change_id}", yes)
    progress = Progress(enabled=output == "text")
    engine = engine_for(prepared, say=lambda m: echo(m, err=True))
    print_result(execute(prepared, progress, engine), output, "hosts")
