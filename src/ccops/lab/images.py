"""Lab images: mmdebstrap root file systems imported into podman.

An image is rebuilt only when its recipe (images/lab.yml, the customize hook
and the machine's sources) changes, so CI and ``lab up`` reuse what exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from ccops.errors import LabError
from ccops.image.sources import build_sources, image_sources
from ccops.lab.podman import image_label, podman
from ccops.locks import waited_flock
from ccops.paths import project_root, state_dir

RECIPE_LABEL = "ccops.recipe"


def recipe() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((project_root() / "images" / "lab.yml").read_text())
    return spec


def image_name(variant: str) -> str:
    return f"localhost/ccops-lab:{variant}"


def recipe_digest(variant: str) -> str:
    spec = recipe()
    suite = spec["variants"][variant]["suite"]
    h = hashlib.sha256()
    files = sorted((project_root() / "images" / "lab").iterdir())
    for part in (
        yaml.safe_dump(spec),
        *(f.read_text() for f in files if f.is_file()),
        build_sources(suite),
        image_sources(suite),
        variant,
    ):
        h.update(part.encode())
    return h.hexdigest()[:16]


def ensure_images(variants: list[str], say: Callable[[str], None] = print, rebuild: bool = False) -> None:
    """Build the images that are missing or stale, several at a time."""
    known = recipe()["variants"]
    unknown = [v for v in variants if v not in known]
    if unknown:
        raise LabError(f"no lab image for {', '.join(unknown)}; lab variants: {', '.join(known)}")
    with waited_flock(build_lock()):  # two ccops homes on one machine share podman's images: one builds them
        todo = [v for v in variants if rebuild or image_label(image_name(v), RECIPE_LABEL) != recipe_digest(v)]
        if not todo:
            return
        say(f"building lab image(s) {', '.join(todo)} with mmdebstrap (30 s to a few minutes each)")
        with ThreadPoolExecutor(max_workers=len(todo)) as pool:
            for variant in pool.map(build_image, todo):
                say(f"  built {image_name(variant)}")


def build_lock() -> Path:
    """One lock per user of the machine (podman's image store is the user's, whatever CCOPS_HOME says)."""
    folder = Path("/run/lock") if os.access("/run/lock", os.W_OK) else Path(tempfile.gettempdir())
    return folder / f"ccops-lab-images-{os.getuid()}.lock"


def build_image(variant: str) -> str:
    if shutil.which("mmdebstrap") is None:
        raise LabError("mmdebstrap is not installed: run scripts/setup")
    spec = recipe()
    suite = spec["variants"][variant]["suite"]
    work = state_dir() / "lab" / "build"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work, prefix=f"{variant}-") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "build.sources").write_text(build_sources(suite))
        (tmpdir / "image.sources").write_text(image_sources(suite))
        (tmpdir / "image.sources").chmod(0o644)  # copied into the image as apt's sources
        tarball = tmpdir / "rootfs.tar"
        hook = project_root() / "images" / "lab" / "customize.sh"
        env = {
            **os.environ,
            "CCOPS_LAB_SOURCES": str(tmpdir / "image.sources"),
            "CCOPS_LAB_USER": spec.get("user", "ccops"),
        }
        proc = subprocess.run(
            [
                "mmdebstrap",
                "--variant=apt",
                "--quiet",
                f"--include={','.join(spec['packages'])}",
                f'--customize-hook="{hook}" "$1"',
                suite,
                str(tarball),
                str(tmpdir / "build.sources"),
            ],
            # ccops runs with umask 077 (private state); an image's files keep Debian's usual modes
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=1800,
            umask=0o022,
        )
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise LabError(f"mmdebstrap {suite} failed: {' | '.join(tail)}")
        podman(
            "import",
            "--change",
            'CMD ["/sbin/init"]',
            "--change",
            "STOPSIGNAL SIGRTMIN+3",
            "--change",
            f"LABEL {RECIPE_LABEL}={recipe_digest(variant)}",
            str(tarball),
            image_name(variant),
            timeout=600,
        )
    return variant
