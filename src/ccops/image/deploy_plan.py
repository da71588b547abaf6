"""What a deploy run is asked to do, shared by `ccops deploy` and `ccops plan deploy`, and what its saved plan pins.

The request names the golden image, its version and the mode (image, converge,
rebuild) as the playbook's variables; converge and rebuild select active machines.
A saved plan pins the image definition and the build the machines will be
written from (its manifest, and the disk's sha256 the imager checks): a
definition edited or a build made again since the review refuses the plan.
"""

from __future__ import annotations

from typing import Any

from ccops.checksums import sha256_file
from ccops.errors import CcopsError, UsageError
from ccops.image.build import DISK, MANIFEST, Build, cached_build
from ccops.image.definition import ImageDef, load_image
from ccops.paths import project_root

VERB = "deploy"
IMAGE, VERSION, MODE = "ccops_image_name", "ccops_image_version", "ccops_deploy_mode"
SETTINGS = (IMAGE, VERSION, MODE)  # the deploy command's own settings: the only ones its saved plan may hold
MODES = ("image", "converge", "rebuild")
ON_ACTIVE = ("converge", "rebuild")  # modes that select deployed (active) machines, not planned ones


def deploy_options(image_name: str, converge_only: bool, rebuild: bool) -> dict[str, str]:
    """The run's settings for this image and mode; refused when the image is not built."""
    if converge_only and rebuild:
        raise UsageError("--converge-only and --rebuild exclude each other")
    image = load_image(image_name)
    built_image(image)
    mode = "converge" if converge_only else "rebuild" if rebuild else "image"
    return {IMAGE: image.name, VERSION: image.version, MODE: mode}


def built_image(image: ImageDef) -> Build:
    built = cached_build(image)
    if built is None:
        raise CcopsError(f"{image.name} is not built (or its definition changed): ccops image build {image.name}")
    return built


def lifecycle_for(options: dict[str, Any]) -> tuple[str, ...] | None:
    """The lifecycle states the run selects: None is the verb's own (planned machines)."""
    return ("active",) if options.get(MODE) in ON_ACTIVE else None


def image_of(options: dict[str, Any]) -> ImageDef:
    name = options.get(IMAGE)
    if not isinstance(name, str):
        raise UsageError("deploy needs --image NAME (a golden image: ccops image list)")
    return load_image(name)


def saved_settings_problem(options: dict[str, Any]) -> str | None:
    """Why a saved plan's deploy settings are not ones `plan deploy` writes (the file is untrusted), or None."""
    if options.get(MODE) not in MODES:
        return f"{MODE} is not one of {', '.join(MODES)}"
    image = image_of(options)  # a name that is no image is one line naming it
    if options.get(VERSION) != image.version:
        return f"{VERSION} is not the version {image.name}'s definition states"
    return None


def refuse_other_os(options: dict[str, Any], hosts: list[Any]) -> None:
    image = image_of(options)
    if wrong := [h.name for h in hosts if h.os != image.os]:
        raise CcopsError(f"{image.name} is a {image.os} image; not for {', '.join(wrong[:5])} (another OS variant)")


def image_pins(request: Any) -> dict[str, str]:
    """The image definition and the build the run writes: {label: sha256} (Verb.pins of deploy)."""
    image = image_of(request.options)
    try:
        definition = str(image.file.relative_to(project_root()))
    except ValueError:
        definition = str(image.file)
    pins = {f"image definition {definition}": sha256_file(image.file)}
    built = cached_build(image)
    if built is None:  # a saved plan names its build as gone; a new plan is refused before it gets here
        return pins
    version = str(built.manifest.get("version"))
    disk = (built.manifest.get("artefacts") or {}).get(DISK) or {}
    if not isinstance(disk, dict) or not isinstance(disk.get("sha256"), str):
        raise CcopsError(f"{built.folder / MANIFEST}: names no {DISK} sha256; ccops image build {image.name} --rebuild")
    return {
        **pins,
        f"image build {image.name} {version} manifest": sha256_file(built.folder / MANIFEST),
        f"image build {image.name} {version} disk {DISK}": disk["sha256"],
    }


def prepare_deploy(request: Any) -> Any:
    """deploy's plan: converge and rebuild select active machines; every machine must take the image's OS."""
    from ccops.run import prepare

    prepared = prepare(request, lifecycle=lifecycle_for(request.options))
    refuse_other_os(request.options, prepared.plan.hosts)
    return prepared
