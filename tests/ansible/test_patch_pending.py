"""The patch role's first step (library/ccops_patch_pending.py): says "nothing to do" only when sure."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

MODULE = ROOT / "roles/patch/library/ccops_patch_pending.py"
SPEC = importlib.util.spec_from_file_location("ccops_patch_pending", MODULE)
assert SPEC is not None and SPEC.loader is not None
pending = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(pending)

SIMULATED = (
    "Inst openssl [3.0.1] (3.0.2 Debian-Security:12/stable-security [amd64])\nInst bash [5.2] (5.2.1 x [amd64])\n"
)
URI = "http://10.88.0.1:8080/content/snap_2026-12"


@pytest.fixture
def host(tmp_path: Path, monkeypatch):
    """A host's files under tmp_path; apt answers what the test scripts, and says what it was asked."""
    asked: list[list[str]] = []
    answers = {"update": (0, ""), "-s": (0, "")}

    def run(argv: list[str]) -> tuple[int, str]:
        asked.append(argv)
        return answers["update" if "update" in argv else "-s"]

    lists = tmp_path / "lists"
    lists.mkdir()
    monkeypatch.setattr(pending, "run", run)
    monkeypatch.setattr(pending, "LISTS", str(lists))
    params = {
        "allow": [],
        "deny": [],
        "marker": str(tmp_path / "marker.json"),
        "snapshot_source": "",
        "snapshot_uri": "",
        "suite": "debian12",
        "empty_dir": str(tmp_path / "empty"),
        "max_age": 3600,
        "stamp": str(tmp_path / "ccops" / "stamp"),
    }
    return params, answers, asked, lists


def test_fresh_lists_with_nothing_offered_end_the_host_without_a_refresh(host):
    params, _, asked, _ = host
    Path(params["stamp"]).parent.mkdir()
    Path(params["stamp"]).write_text("")
    found = pending.decide(params)
    assert found["nothing_to_do"] is True and found["reason"].startswith("nothing to install")
    assert [a for a in asked if "update" in a] == []


def test_stale_lists_are_refreshed_first_and_the_stamp_renewed(host):
    params, _, asked, _ = host
    found = pending.decide(params)
    assert found["nothing_to_do"] is True and ["apt-get", "update", "-qq"] in asked
    assert time.time() - Path(params["stamp"]).stat().st_mtime < 60


def test_a_failed_refresh_or_simulation_is_never_nothing_to_do(host):
    params, answers, _, _ = host
    answers["update"] = (100, "")
    assert pending.decide(params)["nothing_to_do"] is False
    answers["update"], answers["-s"] = (0, ""), (100, "")
    assert pending.decide(params)["nothing_to_do"] is False


def test_offered_updates_go_through_the_allow_and_deny_lists(host):
    params, answers, _, _ = host
    answers["-s"] = (0, SIMULATED)
    assert pending.decide(params)["pending"] == ["openssl", "bash"]
    assert pending.decide({**params, "deny": ["openssl", "bash"]})["nothing_to_do"] is True
    assert pending.decide({**params, "allow": ["zsh"]})["nothing_to_do"] is True
    assert pending.decide({**params, "allow": ["bash"]})["pending"] == ["bash"]


def test_an_interrupted_patch_is_never_nothing_to_do(host):
    params, _, asked, _ = host
    Path(params["marker"]).write_text("{}")
    assert pending.decide(params) == {"nothing_to_do": False, "reason": "an interrupted patch is to be finished"}
    assert asked == []


def test_the_approved_snapshot_in_place_is_read_alone_and_never_refreshed(host, tmp_path):
    params, _, asked, lists = host
    source = tmp_path / "ccops-content.sources"
    params = {**params, "snapshot_source": str(source), "snapshot_uri": URI}
    assert pending.decide(params)["reason"] == "the approved snapshot is not in place yet"
    source.write_text(f"Types: deb\nURIs: {URI}\nSuites: debian12\nComponents: main\n")
    Path(params["empty_dir"]).mkdir()
    assert pending.decide(params)["nothing_to_do"] is False  # named, but its lists were never fetched
    # apt names list files after the URI: "_" %-quoted, "/" as "_"
    (lists / "10.88.0.1:8080_content_snap%5f2026-12_dists_debian12_main_binary-amd64_Packages").write_text("")
    found = pending.decide(params)
    assert found["nothing_to_do"] is True and "approved snapshot" in found["reason"]
    assert not [a for a in asked if "update" in a]
    assert f"Dir::Etc::sourcelist={source}" in asked[-1]
    source.write_text(f"Types: deb\nURIs: {URI}-next\nSuites: debian12\n")  # another snapshot was approved
    assert pending.decide(params)["nothing_to_do"] is False
