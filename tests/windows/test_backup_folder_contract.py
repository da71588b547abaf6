"""Contract tests: the Windows backup's folder under ProgramData is made private before anything is
written into it, and a restore removes the declared paths without going through a junction.

Seats of their own (one patch run): a fresh seat; one whose backups folder a user made first
(inheriting Users' access); one where that folder is a junction; one whose lock does not take
(a policy puts Users back); an unhealthy seat (rolled back) with a junction inside its declared
path pointing at a user's documents."""

from __future__ import annotations

import pytest

from tests.windows.harness import APP_PATH, run_contract, seat_state
from tests.windows.seats import BROKEN_SOFTPHONE

ROOT = "C:\\ProgramData\\ccops"
BACKUPS = ROOT + "\\backups"
INHERITED = "O:S-1-5-21-1-2-3-1001D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)"
DOCUMENTS = "C:\\Users\\agent\\Documents"
CV = DOCUMENTS + "\\cv.docx"
LOGS = APP_PATH + "\\logs"

SEATS = {
    "fresh": (seat_state(), {}),
    "wide": (seat_state(tree={ROOT: {"dir": True}, BACKUPS: {"dir": True}}, acls={BACKUPS: INHERITED}), {}),
    "junction": (seat_state(tree={ROOT: {"dir": True}, BACKUPS: {"junction": DOCUMENTS}, CV: {"size": 10}}), {}),
    "nolock": (seat_state(lock_sddl=INHERITED), {}),
    "restore": (
        seat_state(
            services=BROKEN_SOFTPHONE,
            tree={APP_PATH: {"dir": True}, LOGS: {"junction": DOCUMENTS}, CV: {"size": 10}},
        ),
        {},
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return run_contract(tmp_path_factory.mktemp("backup-folders"), "patch.yml", "patch", SEATS)


def _locks(run) -> list[str]:
    return [c["args"]["parameters"]["Folder"] for c in run.calls if c["op"] == "folder.lock"]


def test_each_ccops_folder_is_locked_parent_first_before_the_archive_is_written(runs):
    run = runs["fresh"]
    assert run.outcome() == "ok", run.failure()
    backup = run.report()["backup_before"]["id"]
    first = run.index("backup.archive")
    assert _locks(run)[:3] == [ROOT, BACKUPS, f"{BACKUPS}\\{backup}"]
    assert run.ops()[:first].count("folder.lock") == 3  # all three before the first archive
    assert run.state["acls"][BACKUPS] == "O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"


def test_a_folder_a_user_made_first_is_relocked_not_trusted(runs):
    run = runs["wide"]
    assert run.outcome() == "ok", run.failure()
    assert BACKUPS in _locks(run)
    assert run.state["acls"][BACKUPS] == "O:BAD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"


def test_a_junction_in_place_of_the_backups_folder_stops_the_patch_untouched(runs):
    run = runs["junction"]
    assert run.outcome() == "failed"
    assert f"{BACKUPS} is a link or junction" in run.failure()
    assert "folder.lock" not in run.ops() and "backup.archive" not in run.ops()
    assert "win_updates.install" not in run.ops()
    assert run.state["tree"][CV] == {"size": 10}


def test_a_lock_that_does_not_take_stops_before_anything_is_written(runs):
    run = runs["nolock"]
    assert run.outcome() == "failed"
    assert "the backup folder is not private" in run.failure()
    assert "an inherited entry for 'BU' remains" in run.failure()
    assert "backup.archive" not in run.ops() and "win_updates.install" not in run.ops()


def test_a_restore_removes_a_junction_as_a_link_and_never_its_targets_content(runs):
    run = runs["restore"]
    assert run.report()["outcome"] == "rolled_back", run.failure()
    assert run.state["tree"].get(CV) == {"size": 10}  # the user's document survives the restore
    removals = [c["args"]["path"] for c in run.calls if c["op"] == "win_file.absent"]
    assert removals.index(LOGS) < removals.index(APP_PATH)  # the link first, as itself
    assert LOGS not in run.state["tree"]
    assert run.state["paths"][APP_PATH] == "softphone settings before the patch"
