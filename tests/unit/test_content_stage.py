"""A built snapshot reaches its site's point by a seed run then a verified stage run, and only then counts
as staged (stage_built, now on the generic stage_on_point the tracker import shares).

The runs are driven by the scripted engine; the content roles are proven on the container lab.
"""

from __future__ import annotations

import pytest

import ccops.run
from ccops.content.snapshot import stage_built
from ccops.content.snapshots import content_dir, load
from ccops.errors import CcopsError
from ccops.inventory.load import load_inventory
from tests.conftest import site_text, write_inventory
from tests.scripted import POINT_HOST, PointEngine
from tests.scripted import POINT_LINE as POINT

SNAPSHOT = "20261207T000000-abcdef"


@pytest.fixture
def inventory(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    text = site_text().replace("  rollout:", POINT + "  rollout:", 1)
    return load_inventory(write_inventory(tmp_path / "inv", {"tst.yml": text}))


def _built(inventory):
    rel = f"content/{SNAPSHOT}/debian/dists/trixie/InRelease"
    path = content_dir(inventory) / "points" / "tst" / rel
    path.parent.mkdir(parents=True)
    path.write_text("signed index")
    manifest = {
        "id": SNAPSHOT,
        "site": "tst",
        "created": "2026-12-07T00:00:00+00:00",
        "staged": False,
        "approval": None,
        "files": {rel: "0" * 64},
    }
    return manifest, [(rel, "0" * 64)]


def _engine(monkeypatch, engine):
    real = ccops.run.run_verb
    monkeypatch.setattr(ccops.run, "run_verb", lambda request, progress=None, _=None: real(request, progress, engine))


def test_a_snapshot_is_seeded_then_staged_and_then_marked_staged(inventory, monkeypatch):
    engine = PointEngine()
    _engine(monkeypatch, engine)
    manifest, files = _built(inventory)
    runs = stage_built(inventory.root, inventory, manifest, files, "CHG-1", None)
    seed, stage = engine.batches
    assert [b.playbook for b in engine.batches] == ["playbooks/content_snapshot.yml", "playbooks/software_stage.yml"]
    assert seed.hosts == stage.hosts == [POINT_HOST]
    assert stage.extravars["distribution_point_stage"]["tst"] == {
        "source": str(content_dir(inventory) / "points" / "tst"),
        "files": [list(f) for f in files],
    }
    assert engine.seeded[0].endswith(f"{SNAPSHOT}.tar")
    assert not list((content_dir(inventory) / "work").iterdir())  # the seed archive does not linger
    saved = load(inventory, SNAPSHOT)
    assert saved["staged"] is True and saved["stage_run"] == runs[-1] and len(runs) == 2


def test_a_failed_stage_leaves_the_snapshot_unstaged(inventory, monkeypatch):
    _engine(monkeypatch, PointEngine(fail_stage=True))
    manifest, files = _built(inventory)
    with pytest.raises(CcopsError, match="software-stage run"):
        stage_built(inventory.root, inventory, manifest, files, "CHG-1", None)
    assert load(inventory, SNAPSHOT)["staged"] is False
