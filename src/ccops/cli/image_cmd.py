"""ccops image list|validate|build|show|stage: golden images declared in images/golden."""

from __future__ import annotations

import click

from ccops.cli.options import change_id_option, events_option, inventory_option, resolve_inventory
from ccops.cli.output import echo, emit_json, table


@click.group()
def image() -> None:
    """Golden images per business line and OS variant (images/golden/NAME.yml).

    Debian images are built here (mmdebstrap from this machine's own Debian
    sources, a bootable disk image, zstd, a manifest); Windows images name
    the WIM their site's imaging server deploys.
    """


@image.command("list")
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
def list_images(output: str) -> None:
    """Every image definition and whether its current build is cached."""
    from ccops.image.build import cached_build
    from ccops.image.definition import load_image, names

    rows = []
    for name in names():
        img = load_image(name)
        built = cached_build(img) if img.family == "debian" else None
        rows.append(
            {
                "image": name,
                "version": img.version,
                "os": img.os,
                "line": img.business_line,
                "built": str(built.folder) if built else "",
            }
        )
    if output == "json":
        emit_json(rows)
    else:
        echo(table([list(r.values()) for r in rows], ["IMAGE", "VERSION", "OS", "LINE", "BUILD"]))


@image.command()
def validate() -> None:
    """Check every definition; each problem as FILE:LINE: message."""
    from ccops.errors import InventoryError
    from ccops.image.definition import names, validate_all

    problems = validate_all()
    if problems:
        raise InventoryError(problems)
    echo(f"{len(names())} image definition(s) valid")


@image.command()
@click.argument("name")
@click.option("--rebuild", is_flag=True, help="Build even when the cached build is current.")
def build(name: str, rebuild: bool) -> None:
    """Build NAME (skipped when its definition and inputs are unchanged)."""
    from ccops.image.build import build as build_image
    from ccops.image.definition import load_image

    result = build_image(load_image(name), say=lambda m: echo(m, err=True), rebuild=rebuild)
    echo(result.folder)


@image.command()
@click.argument("name")
def show(name: str) -> None:
    """The manifest of NAME's current build (version, packages, sha256 of every artefact)."""
    from ccops.errors import CcopsError
    from ccops.image.build import cached_build
    from ccops.image.definition import load_image

    built = cached_build(load_image(name))
    if built is None:
        raise CcopsError(f"{name} is not built (or its definition changed): ccops image build {name}")
    emit_json(built.manifest)


@image.command()
@click.argument("name")
@click.option("--site", "sites", multiple=True, required=True, help="Site whose distribution point gets it.")
@inventory_option
@change_id_option(required=False, help="Change or ticket id recorded with the run (a point on another host).")
@events_option
def stage(name: str, sites: tuple[str, ...], inventory: object, change_id: str | None) -> None:
    """Copy NAME's current build to each site's distribution point, verified on arrival.

    A point on this machine (distribution_point.host localhost, as the VM
    lab's) gets a copy; a point on another host of the inventory is staged
    like the software catalogue (one software-stage run): files it holds
    intact are not sent again, every file sent is checked by sha256 on
    arrival and one that differs is removed and reported. A build whose
    files differ from its manifest is refused before anything is sent."""
    import sys

    from ccops.errors import CcopsError, UsageError
    from ccops.image.build import cached_build
    from ccops.image.definition import load_image
    from ccops.image.stage import is_remote, stage_remote
    from ccops.image.stage import stage as stage_build
    from ccops.inventory.load import load_inventory

    built = cached_build(load_image(name))
    if built is None:
        raise CcopsError(f"{name} is not built (or its definition changed): ccops image build {name}")
    inv = load_inventory(resolve_inventory(inventory))  # type: ignore[arg-type]
    unknown = [code for code in sites if code not in inv.sites]
    if unknown:
        raise UsageError(f"no site {unknown[0]!r} in {inv.root}")
    code_out = 0
    for code in sites:
        if not is_remote(inv.sites[code]):
            folder, sent = stage_build(inv.sites[code], built)
            echo(f"{code}: {folder} ({', '.join(sent) or 'already there, intact'})")
            continue
        staged = stage_remote(inv, code, built, change_id)
        point = f"{staged.point}:{inv.sites[code].distribution_point['path']}/{staged.folder}"
        what = ", ".join(rel.rsplit("/", 1)[1] for rel in staged.sent) or "already there, intact"
        echo(f"{code}: {point} ({what}) run {staged.run.run_id}: {staged.run.status}")
        for line in staged.refused:
            echo(f"{code}: refused {line}", err=True)
        if staged.exit_code and not staged.refused:
            echo(f"{code}: {staged.run.message or staged.outcome}", err=True)
        code_out = code_out or staged.exit_code
    sys.exit(code_out)
