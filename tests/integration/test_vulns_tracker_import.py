"""ccops vulns import: the kept export signed with the inventory's key and staged on the site's point like a
snapshot; only a verified import is used, a tampered or unsigned one is named and left out.

The seed and stage runs are driven by the scripted engine (the content roles are proven on the
container lab by the snapshot tests); signing and verifying use the real gpg and gpgv.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccops.content.snapshots import content_dir
from ccops.errors import CcopsError
from ccops.inventory.load import load_inventory
from ccops.software.points import key_files
from ccops.vulns import tracker
from tests.conftest import site_text, write_inventory
from tests.scripted import POINT_HOST, PointEngine, ScriptedEngine
from tests.scripted import POINT_LINE as POINT


def _export(cve: str, status: str = "open", fixed: str = "") -> dict:
    release = {"status": status, "urgency": "high"} | ({"fixed_version": fixed} if fixed else {})
    return {"curl": {cve: {"releases": {"bookworm": release}}}}


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CCOPS_OPERATOR", "alice")
    text = site_text().replace("  rollout:", POINT + "  rollout:", 1)
    return load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": text}))


def _import(inventory, tmp_path: Path, data: dict, engine: ScriptedEngine | None = None, name: str = "export.json"):
    source = tmp_path / name
    source.write_text(json.dumps(data))
    engine = engine or PointEngine()
    done = tracker.import_export(
        inventory.root, inventory, ["tst"], source, tracker.parse_export(source), "CHG-7", engine=engine
    )
    return done["tst"], engine


def _load(inventory) -> tracker.Loaded:
    return tracker.load(content_dir(inventory), "tst", key_files(inventory).public)


def _folder(inventory, manifest) -> Path:
    return content_dir(inventory) / "points" / "tst" / tracker.point_prefix(manifest["id"])


def test_an_import_is_signed_recorded_and_staged_beside_the_snapshots(inventory, tmp_path):
    manifest, engine = _import(inventory, tmp_path, _export("CVE-2024-0001"))
    seed, stage = engine.batches
    assert seed.hosts == stage.hosts == [POINT_HOST]
    assert (seed.playbook, stage.playbook) == ("playbooks/content_snapshot.yml", "playbooks/software_stage.yml")
    staged = stage.extravars["distribution_point_stage"]["tst"]
    prefix = f"content/{manifest['id']}"
    assert [rel for rel, _ in staged["files"]] == [
        f"{prefix}/tracker.json",
        f"{prefix}/manifest.json",
        f"{prefix}/manifest.json.asc",
    ]
    recorded = (manifest["by"], manifest["change_id"], manifest["file"], manifest["kept"])
    assert recorded == ("alice", "CHG-7", "export.json", 1)
    assert len(manifest["source_sha256"]) == 64 and len(manifest["runs"]) == 2
    assert tracker.verify_signature(
        key_files(inventory).public,
        _folder(inventory, manifest) / "manifest.json",
        _folder(inventory, manifest) / "manifest.json.asc",
    )
    loaded = _load(inventory)
    assert loaded.problem is None and loaded.imported == manifest["imported"]
    assert loaded.data == {"curl": {"CVE-2024-0001": {"bookworm": ("open", "", "high")}}}


def _edit_manifest(folder: Path) -> None:
    path = folder / "manifest.json"
    path.write_text(path.read_text().replace("CHG-7", "CHG-8"))


@pytest.mark.parametrize(
    ("tamper", "named", "why"),
    [
        (lambda f: (f / "tracker.json").write_text('{"curl": {}}'), "tracker.json", "sha256 differs"),
        (_edit_manifest, "manifest.json", "signature does not verify"),
        (lambda f: (f / "manifest.json.asc").unlink(), "manifest.json", "signature does not verify"),
    ],
    ids=["data", "manifest", "unsigned"],
)
def test_a_tampered_or_unsigned_import_is_named_and_not_used(inventory, tmp_path, tamper, named, why):
    manifest, _ = _import(inventory, tmp_path, _export("CVE-2024-0001"))
    tamper(_folder(inventory, manifest))
    loaded = _load(inventory)
    assert (loaded.data, loaded.imported) == ({}, None)
    assert loaded.problem is not None and why in loaded.problem and "\n" not in loaded.problem
    assert str(_folder(inventory, manifest) / named) in loaded.problem


def test_an_import_signed_by_another_key_is_refused(inventory, tmp_path, monkeypatch):
    manifest, _ = _import(inventory, tmp_path, _export("CVE-2024-0001"))
    other = load_inventory(write_inventory(tmp_path / "other", {"tst.yml": site_text()}))
    from ccops.software.points import ensure_key, sign_file

    folder = _folder(inventory, manifest)
    text = (folder / "manifest.json").read_text().replace("CHG-7", "CHG-9")
    (folder / "manifest.json").write_text(text)
    sign_file(ensure_key(other), folder / "manifest.json", folder / "manifest.json.asc")
    assert "signature does not verify" in str(_load(inventory).problem)


def test_a_record_from_before_signing_is_refused_not_trusted(inventory):
    record = content_dir(inventory) / "vulns" / "tracker-tst.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"imported": "2026-12-01T00:00:00+00:00", "data": {"curl": {}}}))
    loaded = _load(inventory)
    assert loaded.data == {} and str(record) in str(loaded.problem)


def test_no_import_is_no_data_and_no_problem(inventory):
    assert _load(inventory) == tracker.Loaded({}, None, None)


def test_a_reimport_replaces_the_old_one_whole(inventory, tmp_path):
    _import(inventory, tmp_path, _export("CVE-2024-0001"))
    second, _ = _import(inventory, tmp_path, _export("CVE-2024-0002", "resolved", "0"), name="newer.json")
    loaded = _load(inventory)
    assert loaded.data == {"curl": {"CVE-2024-0002": {"bookworm": ("resolved", "0", "high")}}}
    assert loaded.imported == second["imported"]
    kept = [p.name for p in (content_dir(inventory) / "points" / "tst" / "content").iterdir()]
    assert kept == [second["id"]]  # the controller keeps the current import only


def test_every_site_needs_a_point_before_anything_is_built(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    sites = {
        "tst.yml": site_text().replace("  rollout:", POINT + "  rollout:", 1),
        "oth.yml": site_text("oth", address="10.9.1.1"),
    }
    inventory = load_inventory(write_inventory(tmp_path / "inv", sites))
    source = tmp_path / "export.json"
    source.write_text(json.dumps(_export("CVE-2024-0001")))
    engine = PointEngine()
    with pytest.raises(CcopsError, match=r"oth.yml: site oth needs distribution_point.host"):
        tracker.import_export(
            inventory.root, inventory, ["tst", "oth"], source, tracker.parse_export(source), "C-1", engine=engine
        )
    assert engine.batches == [] and not (content_dir(inventory) / "points").exists()


def test_a_failed_stage_keeps_the_previous_import(inventory, tmp_path):
    first, _ = _import(inventory, tmp_path, _export("CVE-2024-0001"))
    with pytest.raises(CcopsError, match=r"software-stage run .* did not finish"):
        _import(inventory, tmp_path, _export("CVE-2024-0002"), engine=PointEngine(fail_stage=True))
    assert list(_load(inventory).data["curl"]) == ["CVE-2024-0001"]
    left = sorted(p.name for p in (content_dir(inventory) / "points" / "tst" / "content").iterdir())
    assert left == [first["id"]]  # the failed import's files are gone from the controller's point tree


def test_an_offline_inventory_is_never_contacted(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    folder = write_inventory(tmp_path / "inv", {"tst.yml": site_text().replace("  rollout:", POINT + "  rollout:")})
    (folder / "ccops.yml").write_text("plugin: ccops\nsites: sites\noffline: true\n")
    inventory = load_inventory(folder)
    engine = PointEngine()
    with pytest.raises(CcopsError, match="offline"):
        _import(inventory, tmp_path, _export("CVE-2024-0001"), engine=engine)
    assert engine.batches == []
