"""Golden images: definitions, the imaging initramfs archive, the point's boot service, phases, staging."""

from __future__ import annotations

import json
import subprocess

from ccops.image.initramfs import Cpio
from ccops.image.point import seed_tar
from tests.unit.test_image import GOOD


def test_the_initramfs_archive_is_read_by_busybox_cpio(tmp_path):
    archive = Cpio()
    archive.file("bin/tool", b"#!/bin/sh\necho hi\n", 0o755)
    archive.symlink("bin/sh", "busybox")
    archive.file("lib/modules/order", b"a.ko\n")
    (tmp_path / "a.cpio").write_bytes(archive.archive())
    listed = subprocess.run(
        ["busybox", "cpio", "-t"], stdin=(tmp_path / "a.cpio").open("rb"), capture_output=True, text=True, check=True
    ).stdout.split()
    assert listed == ["bin", "bin/tool", "bin/sh", "lib", "lib/modules", "lib/modules/order"]


def test_seed_is_a_tar_the_image_can_read(tmp_path):
    (tmp_path / "seed.tar").write_bytes(seed_tar({"authorized_keys": b"ssh-ed25519 AAAA x\n", "hostname": b"h\n"}))
    listed = subprocess.run(["tar", "-tf", str(tmp_path / "seed.tar")], capture_output=True, text=True, check=True)
    assert listed.stdout.split() == ["authorized_keys", "hostname"]
    assert json.dumps  # the module's json import stays used by later tests


def test_a_windows_image_is_refused_in_one_line_by_the_commands_that_build_or_send_images(tmp_path):
    """A valid Windows definition: its WIM is made elsewhere; build, show, stage and deploy say so."""
    from tests.conftest import ccops_env, online_example, run_ccops

    online = online_example(tmp_path / "online")  # the offline example is refused before the image is read
    project = tmp_path / "project"
    (project / "images" / "golden").mkdir(parents=True)
    wim = "wim: {file: voice-win11.wim, index: 1, sha256: " + "a" * 64 + "}\n"
    (project / "images" / "golden" / "voice-win11.yml").write_text(GOOD.replace("os: debian12", "os: win11") + wim)
    env = {**ccops_env(tmp_path / "home"), "CCOPS_PROJECT": str(project)}
    assert run_ccops(tmp_path, "image", "validate", env=env).returncode == 0
    for args in (
        ("image", "build", "voice-win11"),
        ("image", "show", "voice-win11"),
        ("image", "stage", "voice-win11", "--site", "shapd", "-i", str(online)),
        ("deploy", "--image", "voice-win11", "-i", str(online), "--change-id", "CHG-1", "--yes"),
    ):
        result = run_ccops(tmp_path, *args, env=env)
        assert result.returncode != 0 and "Traceback" not in result.stderr, (args, result.stderr[-2000:])
        assert "voice-win11 is a Windows image" in result.stderr and len(result.stderr.splitlines()) == 1, args
