"""Backups are trusted only as far as the run record vouches for them; ids and hosts are exact."""

import hashlib
import json

import pytest

from ccops.errors import CcopsError
from ccops.inventory.load import load_inventory
from ccops.report.backups import exact_host, find_backup, list_backups, verified_backup
from ccops.store.records import Store
from tests.conftest import site_text, write_inventory

RUN = "20260301T010203Z-abc123"
HOST = "tst-t01"
MACHINE = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def setup(tmp_path):
    target = tmp_path / "backups"
    text = site_text().replace("  rollout:", f"  backup_target: {{host: localhost, path: {target}}}\n  rollout:")
    inventory = load_inventory(write_inventory(tmp_path / "inv", {"a.yml": text}))
    store = Store(tmp_path / "state" / "ccops.db")
    return inventory, store, target


def _backup(target, store, phase: str, stamp: str, machine: str = MACHINE, run: str = RUN) -> dict:
    ident = f"{run}-{HOST}-{phase}-{stamp}"
    folder = target / HOST / ident
    folder.mkdir(parents=True)
    (folder / "archive.tar.gz").write_bytes(f"archive {ident}".encode())
    digest = hashlib.sha256((folder / "archive.tar.gz").read_bytes()).hexdigest()
    manifest = {
        "id": ident,
        "host": HOST,
        "phase": phase,
        "run_id": run,
        "created": f"2026-03-01T{stamp}",
        "sha256": digest,
        "size": 20,
        "paths": ["/etc/apt"],
        "machine_id": machine,
        "verified": True,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def _record(store, run: str, **reports: dict) -> None:
    store.start_run(
        run,
        "patch",
        operator="t",
        change_id="C",
        git_commit=None,
        inventory="i",
        inventory_sha256="x",
        selectors={},
        request={},
        plan=[],
    )
    store.record_hosts(run, [{"host": HOST, "outcome": "ok", "changed": 1, "message": None, "report": reports}])


def test_a_backup_the_records_vouch_for_is_verified(setup):
    inventory, store, target = setup
    before = _backup(target, store, "before", "010300")
    after = _backup(target, store, "after", "010400")
    _record(store, RUN, backup_before=before, backup_after=after)
    found = find_backup(inventory, HOST, before["id"])
    assert verified_backup(store, found)["sha256"] == before["sha256"]
    listed = list_backups(inventory, HOST, store)
    assert [(b["recorded"], b["differs"], b["other_machine"]) for b in listed] == [(True, [], False)] * 2


def test_a_tampered_archive_or_manifest_is_refused(setup):
    inventory, store, target = setup
    before = _backup(target, store, "before", "010300")
    _record(store, RUN, backup_before=before)
    folder = target / HOST / before["id"]
    (folder / "archive.tar.gz").write_bytes(b"evil archive")
    with pytest.raises(CcopsError, match="archive does not match the sha256 in its run record"):
        verified_backup(store, find_backup(inventory, HOST, before["id"]))
    # a manifest rewritten to match the evil archive is caught by the record
    forged = {**before, "sha256": hashlib.sha256(b"evil archive").hexdigest()}
    (folder / "manifest.json").write_text(json.dumps(forged))
    with pytest.raises(CcopsError, match=r"manifest.json differs from the run record \(sha256\)"):
        verified_backup(store, find_backup(inventory, HOST, before["id"]))
    assert list_backups(inventory, HOST, store)[0]["differs"] == ["sha256"]


def test_a_backup_missing_from_the_records_is_refused(setup):
    inventory, store, target = setup
    before = _backup(target, store, "before", "010300")
    with pytest.raises(CcopsError, match="not in this controller's run records"):
        verified_backup(store, find_backup(inventory, HOST, before["id"]))
    assert list_backups(inventory, HOST, store)[0]["recorded"] is False


def test_another_machines_backup_is_marked(setup):
    inventory, store, target = setup
    old_run = "20260201T010203Z-aaaaaa"
    old = _backup(target, store, "before", "010300", machine="f" * 32, run=old_run)
    _record(store, old_run, backup_before=old)
    new = _backup(target, store, "before", "010300")
    _record(store, RUN, backup_before=new)
    marks = {b["id"]: b["other_machine"] for b in list_backups(inventory, HOST, store)}
    assert marks == {old["id"]: True, new["id"]: False}


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ("", "the backup id is empty; choose one of: "),
        ("   ", "the backup id is empty"),
        ("*", "is a pattern"),
        (RUN[:4], "is ambiguous: "),
        ("nope", "no backup 'nope' of tst-t01"),
    ],
)
def test_empty_wildcard_ambiguous_and_unknown_ids_are_refused(setup, wanted, message):
    inventory, store, target = setup
    before = _backup(target, store, "before", "010300")
    after = _backup(target, store, "after", "010400")
    with pytest.raises(CcopsError, match=message) as caught:
        find_backup(inventory, HOST, wanted)
    if wanted != "nope":
        assert before["id"] in str(caught.value) and after["id"] in str(caught.value)
    assert find_backup(inventory, HOST, after["id"][:-2])["id"] == after["id"]  # a unique prefix


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("tst-t0*", "is a pattern; name one host exactly (matches: tst-t01, tst-t02, tst-t03, tst-t04)"),
        ("tst-t0", "no host 'tst-t0' in the inventory"),
        ("", "HOST is empty"),
    ],
)
def test_host_arguments_are_exact_names(setup, host, message):
    inventory, _, _ = setup
    with pytest.raises(CcopsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        exact_host(inventory, host)
    assert exact_host(inventory, HOST) == HOST
