"""ccops image stage onto the container lab's site point (its first host, over SSH).

The image is a small test build (a few MB of random artefacts with a real
manifest, in a cache of this module's own): what is proven is the staging, the
same as the software catalogue's: every file checked on arrival, files the
point holds intact not sent again, a build that differs from its manifest
refused before anything leaves the controller.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.conftest import ccops_env, run_ccops
from tests.lab.conftest import pexec

pytestmark = pytest.mark.lab
IMAGE = "voice-debian12"
POINT = "lab-deb11-01"  # the lab site's distribution point: its first host
POINT_DIR = "/srv/ccops-dist"
UNIT = "/etc/systemd/system/ccops-distribution-point.service"


@pytest.fixture(scope="module")
def staging(lab_home, tmp_path_factory):
    """The lab home, a test build of IMAGE in a cache of this module's, and the point's folder for it."""
    from ccops.image.build import MANIFEST, build_folder
    from ccops.image.definition import load_image

    cache = tmp_path_factory.mktemp("image-cache")
    saved = os.environ.get("CCOPS_IMAGE_CACHE")
    os.environ["CCOPS_IMAGE_CACHE"] = str(cache)
    image = load_image(IMAGE)
    folder = build_folder(image)
    folder.mkdir(parents=True)
    sizes = {"disk.raw.zst": 6 << 20, "vmlinuz": 1 << 20, "imager.img": 512 << 10, "boot.ipxe": 200}
    artefacts = {}
    for name, size in sizes.items():
        data = os.urandom(size)
        (folder / name).write_bytes(data)
        artefacts[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": size}
    manifest = {"name": image.name, "version": image.version, "artefacts": artefacts}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    had_point = _exists(POINT_DIR)
    had_unit = _exists(UNIT)
    yield lab_home, folder, f"{POINT_DIR}/images/{image.name}/{image.version}"
    if saved is None:
        os.environ.pop("CCOPS_IMAGE_CACHE", None)
    else:
        os.environ["CCOPS_IMAGE_CACHE"] = saved
    # leave the point as this module found it (the software tests stage to an empty one)
    if not had_unit:
        pexec(POINT, "systemctl", "disable", "--now", "ccops-distribution-point.service", check=False)
        pexec(POINT, "rm", "-f", UNIT, check=False)
    pexec(POINT, "rm", "-rf", POINT_DIR if not had_point else f"{POINT_DIR}/images", check=False)
    pexec(POINT, "/usr/local/sbin/ccops-restore-card", "rebaseline", check=False)


def _exists(path: str) -> bool:
    return pexec(POINT, "sh", "-c", 'test -e "$1" && echo yes || true', "sh", path).strip() == "yes"


def _stage(home: Path, change: str):
    env = {**ccops_env(home), "CCOPS_IMAGE_CACHE": os.environ["CCOPS_IMAGE_CACHE"]}
    return run_ccops(home, "image", "stage", IMAGE, "--site", "lab", "--change-id", change, env=env, timeout=300)


def _on_point(folder: str) -> dict[str, str]:
    out = pexec(POINT, "sh", "-c", 'cd "$1" 2>/dev/null && sha256sum -- * || true', "sh", folder)
    return {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in out.splitlines()}


def _built(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_an_image_is_staged_on_the_sites_point_verified(staging):
    home, build, on_point = staging
    proc = _stage(home, "CHG-IMGSTAGE-1")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert f"lab: {POINT}:{on_point} (" in proc.stdout and ": succeeded" in proc.stdout, proc.stdout
    assert _on_point(on_point) == _built(build)  # every artefact and the manifest, intact


def test_a_second_stage_sends_only_what_the_point_lacks_intact(staging):
    home, build, on_point = staging
    # an interrupted copy (a file missing) and a damaged one (same size, one byte changed:
    # flipped, as a fixed byte is already there in one random build of 256)
    pexec(POINT, "rm", "-f", f"{on_point}/vmlinuz")
    flipped = (build / "disk.raw.zst").read_bytes()[4096] ^ 0xFF
    pexec(
        POINT,
        "sh",
        "-c",
        'printf "\\$2" | dd of="$1" bs=1 seek=4096 conv=notrunc status=none',
        "sh",
        f"{on_point}/disk.raw.zst",
        f"{flipped:03o}",
    )
    assert _on_point(on_point) != _built(build)
    proc = _stage(home, "CHG-IMGSTAGE-2")
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    assert "(disk.raw.zst, vmlinuz)" in proc.stdout, proc.stdout  # nothing else sent again
    assert _on_point(on_point) == _built(build)


def test_a_build_that_differs_from_its_manifest_is_refused_before_sending(staging):
    home, build, on_point = staging
    before = _on_point(on_point)
    disk = build / "disk.raw.zst"
    data = bytearray(disk.read_bytes())
    data[len(data) // 2] ^= 0xFF
    disk.write_bytes(bytes(data))
    proc = _stage(home, "CHG-IMGSTAGE-3")
    assert proc.returncode != 0
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .endswith("disk.raw.zst: does not match its build manifest; rebuild the image")
    )
    assert "Traceback" not in proc.stderr
    assert _on_point(on_point) == before  # the point keeps its intact copy
