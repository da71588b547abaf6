"""Contract tests: ccops decommission on modelled Windows seats (issue 20, W4 and W5).

The real playbook (playbooks/decommission.yml, role decommission) runs against seats
modelled on the controller (harness.py and the stand-ins under tests/windows/collections). The stand-ins
enforce the real modules' argument rules: microsoft.ad.membership refuses to leave a
domain without a domain account and its password. A seat whose connection account lost
its network logon right refuses every later task, as every WinRM task is a new logon.
"""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from tests.windows import harness
from tests.windows.harness import DOMAIN_SID, MACHINE, local_user

LEAVE_PASSWORD = "leave-S3cret-pw"
CONNECTION = f"{DOMAIN_SID}-1105"
HELPDESK = f"{DOMAIN_SID}-1106"
THUMB = "3B1A6F0E9C2D4B5A8E7F6D5C4B3A29181716A5B4"
DATA = "C:\\Data\\Recordings"
SCREENS = "C:\\Data\\Screens"
EXPORTS = "D:\\Exports"
PUBLIC = "C:\\Users\\Public\\Documents\\handbook.pdf"
TREE = {
    f"{DATA}\\call-0001.wav": {"size": 48000},
    f"{DATA}\\2026-11": {"dir": True},
    f"{DATA}\\2026-11\\call-0002.wav": {"size": 96000},
    f"{DATA}\\shared": {"junction": "C:\\Users\\Public\\Documents"},  # a junction out of the data
    PUBLIC: {"size": 5000},
    f"{SCREENS}\\s1.png": {"size": 700, "hardlinks": ["C:\\Training\\s1.png"]},  # its data has a name elsewhere
    f"{EXPORTS}\\calls.csv": {"size": 300},
}
SEAT = harness.seat_state(
    computer="SHAPD-T0007",
    local_users={"Administrator": local_user(500, enabled=False), "agent01": local_user(1002)},
    groups={"Administrators": [f"{MACHINE}-500", CONNECTION, HELPDESK], "Remote Management Users": [HELPDESK]},
    rights={"SeNetworkLogonRight": [CONNECTION, HELPDESK], "SeRemoteInteractiveLogonRight": [HELPDESK]},
    connection_sid=CONNECTION,
    domain={
        "name": "CORP",
        "accounts": {"CORP\\svc-ccops": CONNECTION, "CORP\\helpdesk": HELPDESK},
        "leave_account": {"user": "CORP\\svc-leave", "password": LEAVE_PASSWORD},
    },
    profiles=["agent01"],
    certificates={THUMB: {"key": "C:\\ProgramData\\Microsoft\\Crypto\\RSA\\MachineKeys\\5e0c-seat"}},
    tree=TREE,
)
HOSTVARS = {
    "ansible_user": "CORP\\svc-ccops",
    "ccops_lifecycle": "retiring",
    "decommission_confirmed": ["member", "nocreds", "badleave", "uwf", "junction"],
    "decommission_accounts": ["agent01"],
    "decommission_certificates": [THUMB],
    "decommission_data_paths": [DATA, SCREENS, EXPORTS],
    "decommission_win_release_accounts": ["CORP\\svc-ccops", "CORP\\helpdesk"],
    "decommission_win_domain_user": "CORP\\svc-leave",
}
LINKED = "C:\\Data\\Linked"  # declared, but a junction to a folder outside the data
JUNCTION_SEAT = copy.deepcopy(SEAT)
JUNCTION_SEAT.update(domain=None, tree={**TREE, LINKED: {"junction": "C:\\Users\\Public\\Documents"}})
WORKGROUP_UWF = copy.deepcopy(SEAT)
WORKGROUP_UWF.update(domain=None, uwf={"current": True, "next": True})


@pytest.fixture(scope="module")
def decommission_runs(tmp_path_factory):
    work = tmp_path_factory.mktemp("windows-decommission")
    seats = {
        "member": (SEAT, HOSTVARS),
        "nocreds": (SEAT, {**HOSTVARS, "decommission_win_domain_user": ""}),
        "badleave": (SEAT, {**HOSTVARS, "decommission_win_domain_user": "CORP\\svc-other"}),
        "uwf": (WORKGROUP_UWF, {**HOSTVARS, "patch_restore_card": "uwf", "decommission_win_release_accounts": []}),
        "junction": (
            JUNCTION_SEAT,
            {**HOSTVARS, "decommission_win_release_accounts": [], "decommission_data_paths": [LINKED]},
        ),
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCOPS_DOMAIN_LEAVE_PASSWORD", LEAVE_PASSWORD)
        return harness.run_contract(work, "decommission.yml", "decommission", seats)


def test_a_domain_member_is_decommissioned_and_leaves_its_domain(decommission_runs):
    run = decommission_runs["member"]
    assert run.outcome() == "ok", run.failure()
    assert run.report()["outcome"] == "decommissioned"
    assert run.state["domain_left"] is True
    assert run.state["wiped"] == [DATA, SCREENS, EXPORTS]
    sanitised = {r["path"]: r for r in run.report()["sanitised"]}
    assert sanitised[DATA]["files"] == 2 and sanitised[DATA]["bytes"] == 144000
    assert all(r["result"] == "passed" for r in sanitised.values())


def test_the_wipe_never_goes_through_a_junction_nor_zeroes_a_hard_linked_name_outside(decommission_runs):
    run = decommission_runs["member"]
    assert PUBLIC in run.state["tree"]  # what the junction pointed to is untouched
    assert set(run.state["tree"]) == {PUBLIC}  # everything under the declared paths is gone
    assert "zeroed_elsewhere" not in run.state  # s1.png was unlinked, not overwritten
    assert sorted(run.state["overwritten"]) == sorted(
        [f"{DATA}\\call-0001.wav", f"{DATA}\\2026-11\\call-0002.wav", f"{EXPORTS}\\calls.csv"]
    )
    screens = next(r for r in run.report()["sanitised"] if r["path"] == SCREENS)
    assert "hard link(s) to data outside the path removed, not overwritten" in screens["verification"]


def test_free_space_is_cleared_once_per_volume(decommission_runs):
    run = decommission_runs["member"]
    cipher = [c["args"]["argv"] for c in run.calls if c["args"].get("argv", [""])[0] == "cipher.exe"]
    assert cipher == [["cipher.exe", "/w:C:\\"], ["cipher.exe", "/w:D:\\"]]


def _shutdowns(run) -> list[dict]:
    return [c for c in run.calls if c["args"].get("argv", [""])[0] == "shutdown.exe"]


def test_a_domain_member_leaves_its_domain_last_its_power_off_scheduled_just_before(decommission_runs):
    """Once unjoined, the seat can no longer log its domain connection account on (the stand-in
    refuses that logon, as every WinRM task is a new one): nothing may follow the leave."""
    run = decommission_runs["member"]
    assert run.ops()[-1] == "membership.workgroup"
    (shutdown,) = _shutdowns(run)
    assert run.calls[-2] is shutdown and shutdown["args"]["argv"][:4] == ["shutdown.exe", "/s", "/t", "300"]
    assert run.state["power_off_scheduled"] is True


def test_a_workgroup_seat_is_powered_off_as_the_last_thing_it_is_asked(decommission_runs):
    run = decommission_runs["uwf"]
    assert run.outcome() == "ok", run.failure()
    assert _shutdowns(run) == [run.calls[-1]] and run.calls[-1]["args"]["argv"][:2] == ["shutdown.exe", "/s"]


def test_a_failed_leave_cancels_the_power_off_and_fails_the_host_still_reachable(decommission_runs):
    run = decommission_runs["badleave"]
    assert run.outcome() == "failed"
    assert "stays in its domain, running (power-off cancelled)" in run.failure()
    assert [c["args"]["argv"][:2] for c in _shutdowns(run)] == [["shutdown.exe", "/s"], ["shutdown.exe", "/a"]]
    assert "power_off_scheduled" not in run.state and not run.state.get("domain_left")
    assert "refused_logon" not in run.ops()


def test_the_connection_account_keeps_the_rights_the_run_needs_others_lose_theirs(decommission_runs):
    run = decommission_runs["member"]
    assert "refused_logon" not in run.ops()
    assert run.state["rights"]["SeNetworkLogonRight"] == [CONNECTION]
    assert run.state["rights"]["SeRemoteInteractiveLogonRight"] == []
    assert HELPDESK not in run.state["groups"]["Administrators"]
    assert CONNECTION in run.state["groups"]["Administrators"]
    revoked = run.report()["revoked"]
    assert revoked["logon_rights_of"] == ["CORP\\helpdesk"]
    assert revoked["connection_account_kept"] == "CORP\\svc-ccops"


def test_the_leave_password_never_reaches_the_output_or_the_seats_log(decommission_runs):
    run = decommission_runs["member"]
    assert LEAVE_PASSWORD not in run.stdout
    assert LEAVE_PASSWORD not in (run.root / "calls.jsonl").read_text()


def test_a_domain_member_without_leave_credentials_is_refused_before_anything_is_done(decommission_runs):
    run = decommission_runs["nocreds"]
    assert "wiped" not in run.state
    touched = {"backup.archive", "win_copy", "sanitise", "win_user.absent", "win_certificate_store.absent"}
    assert not touched & set(run.ops()), run.ops()
    assert run.outcome() == "failed"
    assert "no domain account to leave it with" in run.failure()


def test_accounts_lose_their_profiles_and_certificates_their_private_keys(decommission_runs):
    run = decommission_runs["member"]
    assert "agent01" not in run.state["local_users"] and run.state["profiles"] == []
    assert run.index("win_user_profile.absent") < run.index("win_user.absent")
    assert THUMB not in run.state["certificates"]
    assert "orphan_keys" not in run.state  # no key container left behind the removed certificate
    assert run.index("certificate.key_delete") < run.index("win_certificate_store.absent")
    assert run.report()["revoked"]["certificate_private_keys_deleted"] == [THUMB]


def test_the_decommission_mark_is_written_where_the_write_filter_keeps_it(decommission_runs):
    run = decommission_runs["uwf"]
    marks = [c for c in run.calls if c["op"] == "win_copy" and c["args"]["dest"].endswith("decommission.json")]
    assert marks and all(c["uwf"]["current"] is False for c in marks)
    assert run.outcome() == "ok", run.failure()


@pytest.fixture(scope="module")
def resumed_uwf(decommission_runs, tmp_path_factory):
    """The uwf seat run again (ccops resume after a lost controller): its mark says what was done."""
    first = decommission_runs["uwf"]
    hostvars = {**HOSTVARS, "patch_restore_card": "uwf", "decommission_win_release_accounts": []}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCOPS_DOMAIN_LEAVE_PASSWORD", LEAVE_PASSWORD)
        runs = harness.run_contract(
            first.root.parent,
            "decommission.yml",
            "decommission",
            {"uwf": (WORKGROUP_UWF, hostvars)},
            extravars=_recorded(first),
            fresh=False,
        )
    return first, runs["uwf"]


def _recorded(first) -> dict:
    """What ccops passes each batch from the run records (ccops.decommission.recorded)."""
    backup = first.report()["final_backup"]
    return {"decommission_recorded_backups": {"uwf": {backup["id"]: backup}}}


def _resume_with_mark(first, work, mark_changes: dict, extravars: dict) -> harness.Run:
    """The uwf seat, decommissioned once, resumed after its mark was rewritten on the seat."""
    shutil.copytree(first.root, work / "uwf")
    shutil.copytree(first.root.parent / "backups", work / "backups")  # the final backup still verifies
    mark = work / "uwf" / "C:\\ProgramData\\ccops\\decommission.json"
    data = json.loads(mark.read_text())
    data["final_backup"].update(mark_changes)
    mark.write_text(json.dumps(data))
    hostvars = {**HOSTVARS, "patch_restore_card": "uwf", "decommission_win_release_accounts": []}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CCOPS_DOMAIN_LEAVE_PASSWORD", LEAVE_PASSWORD)
        runs = harness.run_contract(
            work, "decommission.yml", "decommission", {"uwf": (WORKGROUP_UWF, hostvars)}, extravars, fresh=False
        )
    return runs["uwf"]


@pytest.fixture(scope="module")
def tampered_marks(resumed_uwf, tmp_path_factory):
    first, _ = resumed_uwf
    other = {"sha256": "0" * 64, "machine_id": "11111111-2222-3333-4444-555555555555"}
    return {
        "rewritten": _resume_with_mark(first, tmp_path_factory.mktemp("mark-rewritten"), other, _recorded(first)),
        "unrecorded": _resume_with_mark(first, tmp_path_factory.mktemp("mark-unrecorded"), {}, {}),
    }


def test_a_mark_rewritten_on_the_seat_stops_the_host_before_anything_is_done(tampered_marks):
    run = tampered_marks["rewritten"]
    assert run.outcome() == "failed"
    assert "damaged decommission mark: its sha256 and machine_id" in run.failure()
    assert "disagree with the run record" in run.failure()
    assert "backup.archive" not in run.ops() and "wipe" not in run.ops()
    assert not [c for c in run.calls if c["op"].startswith("win_user")]


def test_a_mark_naming_a_backup_no_run_recorded_is_never_trusted(tampered_marks):
    run = tampered_marks["unrecorded"]
    assert run.outcome() == "failed"
    assert "is in no run record" in run.failure()
    assert "backup.archive" not in run.ops() and "wipe" not in run.ops()


def test_a_resumed_decommission_reuses_the_backup_and_never_wipes_or_clears_twice(resumed_uwf):
    first, run = resumed_uwf
    assert run.outcome() == "ok", run.failure()
    report = run.report()
    assert report["final_backup_reused"] is True
    assert report["final_backup"]["id"] == first.report()["final_backup"]["id"]
    assert "backup.archive" not in run.ops()
    assert not [c for c in run.calls if c["args"].get("argv", [""])[0] == "cipher.exe"]
    wipe = run.calls[run.index("wipe")]["args"]["parameters"]
    assert wipe["Files"] == [] and wipe["Links"] == [] and wipe["Folders"] == []
    assert report["sanitised"] == first.report()["sanitised"]


def test_a_declared_path_that_is_a_junction_is_refused_and_its_target_untouched(decommission_runs):
    run = decommission_runs["junction"]
    assert run.outcome() == "failed"
    assert "refused: the path itself is a link or junction" in run.failure()
    assert PUBLIC in run.state["tree"] and "overwritten" not in run.state
