"""The Windows wipe is decided on the controller (ccops.windows.wipe) from ansible.windows.win_find's
result (follow: false; entries as win_find.ps1 builds them): links are removed, never followed;
a file hard-linked from outside is unlinked, not overwritten; cipher /w once per volume."""

from __future__ import annotations

import pytest

from ccops.windows.facts import DamagedFacts
from ccops.windows.wipe import wipe_plan, wipe_results

DATA = "C:\\Data\\Recordings"


def _entry(path, *, isdir=False, size=None, islnk=False, isjunction=False, hlnk=()):
    return {
        "path": path,
        "filename": path.rsplit("\\", 1)[-1],
        "isdir": isdir,
        "isreg": not isdir,
        "islnk": islnk,
        "isjunction": isjunction,
        "lnk_target": "C:\\Users\\Public" if isjunction else None,
        "hlnk_targets": list(hlnk),
        "size": size,
        "attributes": "Archive",
        "exists": True,
    }


FOUND = {
    "changed": False,
    "examined": 5,
    "matched": 5,
    "files": [
        _entry(f"{DATA}\\a.wav", size=10),
        _entry(f"{DATA}\\sub", isdir=True),
        _entry(f"{DATA}\\sub\\deep", isdir=True),
        _entry(f"{DATA}\\sub\\deep\\b.wav", size=20),
        _entry(f"{DATA}\\public", isdir=True, isjunction=True),
        _entry(f"{DATA}\\shared.png", size=5, hlnk=["C:\\Training\\shared.png"]),
        _entry(f"{DATA}\\twin.wav", size=7, hlnk=[f"{DATA}\\sub\\twin.wav"]),
    ],
}


def test_links_are_unlinked_folders_emptied_deepest_first_and_sizes_counted():
    plan = wipe_plan([DATA, "d:\\Exports", "C:\\Other"], FOUND)
    assert plan["files"] == [f"{DATA}\\a.wav", f"{DATA}\\sub\\deep\\b.wav", f"{DATA}\\twin.wav"]
    assert plan["links"] == [f"{DATA}\\public", f"{DATA}\\shared.png"]
    assert plan["unlinked_only"] == [f"{DATA}\\shared.png"]
    assert plan["folders"] == [f"{DATA}\\sub\\deep", f"{DATA}\\sub"]
    assert plan["volumes"] == ["C:\\", "D:\\"]
    assert plan["per_path"][DATA] == {"files": 3, "bytes": 37}


@pytest.mark.parametrize(
    ("paths", "found", "words"),
    [
        (["\\\\server\\share\\data"], {"files": []}, "not a path on a local volume"),
        ([DATA], {"files": [_entry("C:\\Windows\\x.dll", size=1)]}, "outside every declared path"),
        ([DATA], {"files": [_entry(f"{DATA}\\a.wav", size="10")]}, "not a byte count"),
        ([DATA], {"files": 3}, "not a list"),
    ],
)
def test_what_does_not_fit_is_refused(paths, found, words):
    with pytest.raises(DamagedFacts, match=words):
        wipe_plan(paths, found)


def test_a_path_passes_only_when_read_back_empty_and_its_volume_cleared():
    plan = wipe_plan([DATA], FOUND)
    cipher = {"results": [{"item": "C:\\", "rc": 0, "changed": True}], "changed": True}
    ok = wipe_results([DATA], plan, {"failed": [], "refused": [], "left": {DATA: 0}}, cipher)
    assert ok[0]["result"] == "passed" and "1 hard link(s)" in ok[0]["verification"]
    bad = wipe_results(
        [DATA],
        plan,
        {"failed": [{"file": f"{DATA}\\a.wav", "reason": "a byte read back is not zero"}], "left": {DATA: 1}},
        {"results": []},
    )
    assert bad[0]["result"] == "failed"
    assert bad[0]["verification"] == (
        f"{DATA}\\a.wav: a byte read back is not zero; 1 item(s) left; cipher /w on C:\\ did not finish"
    )
    resumed = wipe_results([DATA], plan, {"failed": [], "left": {DATA: 0}}, {"results": []}, resumed=True)
    assert resumed[0]["result"] == "passed"
