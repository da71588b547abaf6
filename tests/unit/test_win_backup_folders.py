"""The Windows backup folders (ccops.windows.folders): which folders are locked, what win_stat's
answer refuses, and whether the owner and access list a seat read back are locked."""

from __future__ import annotations

import pytest

from ccops.windows.facts import DamagedFacts
from ccops.windows.folders import acl_problems, chain_problems, folder_chain

FOLDER = "C:\\ProgramData\\ccops\\backups\\r1-seat-before-010203"
CHAIN = folder_chain(FOLDER)
LOCKED = "O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
# a folder made with New-Item under ProgramData: inherited, Users may read and create
INHERITED = "O:BAD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)(A;CIID;DCLCRPCR;;;BU)"


def _stats(*stats: dict) -> dict:
    return {"results": [{"item": path, "stat": stat} for path, stat in zip(CHAIN, stats, strict=True)]}


def test_every_ccops_folder_below_programdata_is_locked_parent_first():
    assert CHAIN == ["C:\\ProgramData\\ccops", "C:\\ProgramData\\ccops\\backups", FOLDER]


@pytest.mark.parametrize(
    "bad", ["C:\\ProgramData", "C:\\", "ccops\\backups", "C:\\ProgramData\\..\\Users", "CC:\\a\\b"]
)
def test_a_folder_not_two_levels_below_a_drive_is_refused(bad):
    with pytest.raises(DamagedFacts):
        folder_chain(bad)


def test_missing_folders_and_existing_plain_parents_may_be_locked():
    parent = {"exists": True, "isdir": True, "islnk": False, "isjunction": False}
    assert chain_problems(CHAIN, _stats(parent, {"exists": False}, {"exists": False})) == []


def test_a_junction_on_the_way_is_refused_never_followed():
    junction = {"exists": True, "isdir": True, "islnk": False, "isjunction": True, "lnk_source": "C:\\Users\\a"}
    problems = chain_problems(CHAIN, _stats({"exists": True, "isdir": True}, junction, {"exists": False}))
    assert problems == ["C:\\ProgramData\\ccops\\backups is a link or junction: never followed, never locked"]


def test_a_backup_folder_that_exists_already_is_refused():
    plain = {"exists": True, "isdir": True, "islnk": False, "isjunction": False}
    problems = chain_problems(CHAIN, _stats(plain, plain, plain))
    assert problems == [f"{FOLDER} exists already: this backup did not make it"]


def test_a_file_or_a_damaged_answer_in_the_way_is_refused():
    problems = chain_problems(CHAIN, _stats({"exists": True, "isdir": False}, {"exists": "yes"}, {"exists": False}))
    assert len(problems) == 2
    assert chain_problems(CHAIN, {"results": []}) == ["win_stat did not report every backup folder"]
    assert chain_problems(CHAIN, None) == ["win_stat did not report every backup folder"]


def test_a_locked_folder_passes():
    assert acl_problems(LOCKED) == []
    assert acl_problems("O:S-1-5-32-544D:P(A;OICI;FA;;;S-1-5-18)(D;;FA;;;WD)") == []


def test_a_folder_inheriting_users_access_fails():
    problems = acl_problems(INHERITED)
    assert "the folder still inherits its parent's access" in problems
    assert any("'BU'" in p for p in problems)


def test_an_explicit_entry_for_another_account_or_a_user_owner_fails():
    assert acl_problems("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;FR;;;S-1-5-21-1-2-3-1001)") == [
        "'S-1-5-21-1-2-3-1001' has access"
    ]
    assert acl_problems("O:S-1-5-21-1-2-3-1001D:P(A;OICI;FA;;;BA)") == [
        "owner 'S-1-5-21-1-2-3-1001' is not Administrators or SYSTEM"
    ]


def test_no_access_list_or_no_answer_fails():
    assert acl_problems("O:BA") == ["no access control list (everyone has access)"]
    assert acl_problems(None) == ["no access control list was read back"]
    assert acl_problems(7) == ["no access control list was read back"]
