"""ccops image stage onto a point on another host: the software distribution's staging, fed the build's files.

The software-stage run is driven by the scripted engine (its role is proven on
the container lab by tests/lab/test_lab_image_stage.py).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ccops.errors import CcopsError
from ccops.image.build import MANIFEST, Build
from ccops.image.stage import is_remote, outbox, point_root, remote_files, stage_remote
from ccops.inventory.load import load_inventory
from tests.conftest import site_text, write_inventory
from tests.scripted import ScriptedEngine

POINT = "  distribution_point: {host: tst-t01, path: /srv/ccops-dist, url: 'http://10.9.0.1:8080'}\n"


@pytest.fixture
def build(tmp_path) -> Build:
    folder = tmp_path / "cache" / "voice-debian12" / "2026.11.2-abc"
    folder.mkdir(parents=True)
    artefacts = {}
    for name, data in {"disk.raw.zst": b"disk" * 1000, "vmlinuz": b"kernel", "boot.ipxe": b"#!ipxe\n"}.items():
        (folder / name).write_bytes(data)
        artefacts[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    manifest = {"name": "voice-debian12", "version": "2026.11.2", "artefacts": artefacts}
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return Build(folder, manifest, True)


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    text = site_text().replace("  rollout:", POINT + "  rollout:", 1)
    return load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": text}))


def test_the_files_are_the_builds_with_the_manifest_last(build):
    files = remote_files(build)
    assert [rel for rel, _ in files] == [
        "images/voice-debian12/2026.11.2/boot.ipxe",
        "images/voice-debian12/2026.11.2/disk.raw.zst",
        "images/voice-debian12/2026.11.2/vmlinuz",
        "images/voice-debian12/2026.11.2/manifest.json",
    ]
    assert files[-1][1] == hashlib.sha256((build.folder / MANIFEST).read_bytes()).hexdigest()


def test_a_build_that_differs_from_its_manifest_is_refused(build):
    (build.folder / "vmlinuz").write_bytes(b"kernel, tampered")
    with pytest.raises(CcopsError, match="vmlinuz: does not match its build manifest"):
        remote_files(build)


def test_the_outbox_is_laid_out_as_the_point(inventory, build):
    root = outbox(build)
    for rel, sha in remote_files(build):
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == sha
    assert outbox(build) == root  # made once, used again


def test_a_remote_point_is_staged_by_one_software_stage_run(inventory, build):
    site = inventory.sites["tst"]
    assert is_remote(site)
    with pytest.raises(CcopsError, match="ccops deploys only from a point on this machine"):
        point_root(site)
    folder = "images/voice-debian12/2026.11.2"
    report = {"outcome": "staged", "sent": [f"{folder}/disk.raw.zst"], "kept": [f"{folder}/vmlinuz"], "refused": []}
    engine = ScriptedEngine(reports={"tst-t01": report})
    staged = stage_remote(inventory, "tst", build, "CHG-1", engine=engine)
    (batch,) = engine.batches
    assert batch.hosts == ["tst-t01"] and batch.playbook == "playbooks/software_stage.yml"
    sent = batch.extravars["distribution_point_stage"]["tst"]
    assert sent == {"source": str(outbox(build)), "files": [list(f) for f in remote_files(build)]}
    assert (staged.outcome, staged.sent, staged.kept, staged.exit_code) == ("ok", report["sent"], report["kept"], 0)
    assert staged.folder == folder


def test_a_copy_refused_on_arrival_fails_the_stage(inventory, build):
    folder = "images/voice-debian12/2026.11.2"
    report = {"outcome": "refused", "sent": [f"{folder}/vmlinuz"], "kept": [], "refused": [f"{folder}/vmlinuz"]}
    staged = stage_remote(inventory, "tst", build, None, engine=ScriptedEngine(reports={"tst-t01": report}))
    assert staged.refused == [f"{folder}/vmlinuz: sha256 differs on arrival; removed from the point"]
    assert staged.exit_code != 0


def test_a_point_host_outside_the_inventory_is_one_line(tmp_path, monkeypatch, build):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    text = site_text().replace("  rollout:", POINT.replace("tst-t01", "elsewhere") + "  rollout:", 1)
    inventory = load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": text}))
    with pytest.raises(CcopsError, match=r"tst.yml: site tst needs distribution_point.host \(a host"):
        stage_remote(inventory, "tst", build, None, engine=ScriptedEngine())


def test_a_local_point_keeps_the_copy_on_this_machine(tmp_path, build):
    from ccops.image.stage import stage

    text = site_text().replace("  rollout:", f"  distribution_point: {{path: {tmp_path / 'point'}}}\n  rollout:", 1)
    site = load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": text})).sites["tst"]
    assert not is_remote(site)
    target, sent = stage(site, build)
    assert target == Path(tmp_path / "point" / "images" / "voice-debian12" / "2026.11.2")
    assert sorted(sent) == ["boot.ipxe", "disk.raw.zst", "vmlinuz"]
