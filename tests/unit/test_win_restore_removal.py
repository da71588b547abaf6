"""What a Windows restore removes (ccops.windows.removal), from win_stat's and win_find's real
shapes: a link or junction is removed as itself, never recursed into, before its declared path;
nothing outside the declared paths is ever named."""

from __future__ import annotations

import pytest

from ccops.windows.facts import DamagedFacts
from ccops.windows.removal import folders_to_list, removal_plan

APP = "C:\\ProgramData\\Contoso\\Softphone"
CONF = "C:\\ProgramData\\Contoso\\softphone.ini"
DIR = {"exists": True, "isdir": True, "islnk": False, "isjunction": False}
FILE = {"exists": True, "isdir": False, "islnk": False, "isjunction": False}
JUNCTION = {"exists": True, "isdir": True, "islnk": False, "isjunction": True, "lnk_source": "D:\\Data"}


def _stats(*stats):
    return {"results": [{"stat": s} for s in stats]}


def _entry(path, *, isdir=False, islnk=False, isjunction=False):
    return {"path": path, "isdir": isdir, "islnk": islnk, "isjunction": isjunction, "exists": True}


def test_links_below_a_folder_go_as_links_deepest_first_then_the_folder():
    found = {
        "files": [
            _entry(APP + "\\logs", isdir=True, isjunction=True),
            _entry(APP + "\\cfg", isdir=True),
            _entry(APP + "\\cfg\\user.lnk", islnk=True),
            _entry(APP + "\\cfg\\a.ini"),
        ]
    }
    assert removal_plan([APP], _stats(DIR), found) == [
        {"path": APP + "\\cfg\\user.lnk", "kind": "link"},
        {"path": APP + "\\logs", "kind": "link"},
        {"path": APP, "kind": "folder"},
    ]


def test_a_declared_path_that_is_a_junction_is_not_listed_and_goes_as_a_link():
    stats = _stats(JUNCTION, FILE)
    assert folders_to_list([APP, CONF], stats) == []
    assert removal_plan([APP, CONF], stats, {"files": []}) == [
        {"path": APP, "kind": "link"},
        {"path": CONF, "kind": "file"},
    ]


def test_a_path_that_is_gone_is_not_removed():
    assert removal_plan([APP], _stats({"exists": False}), {"files": []}) == []


def test_an_entry_outside_the_declared_folders_refuses_everything():
    found = {"files": [_entry("C:\\Users\\agent\\Documents\\cv.docx")]}
    with pytest.raises(DamagedFacts, match="outside every declared path"):
        removal_plan([APP], _stats(DIR), found)


def test_a_sibling_with_a_longer_name_is_outside():
    found = {"files": [_entry(APP + "Backup\\x.ini")]}
    with pytest.raises(DamagedFacts):
        removal_plan([APP], _stats(DIR), found)


@pytest.mark.parametrize("path", ["C:\\", "C:", "\\\\server\\share\\x", "relative\\x"])
def test_a_drive_root_or_a_path_not_on_a_local_drive_is_refused(path):
    with pytest.raises(DamagedFacts):
        folders_to_list([path], _stats(DIR))


def test_damaged_answers_refuse():
    with pytest.raises(DamagedFacts):
        removal_plan([APP], _stats({"exists": "yes"}), {"files": []})
    with pytest.raises(DamagedFacts):
        removal_plan([APP], {"results": []}, {"files": []})
    with pytest.raises(DamagedFacts):
        removal_plan([APP], _stats(DIR), {"files": [{"path": 7}]})
