"""The record store against real failures: a second process holding the lock, damaged files and rows,
a read-only mount and a full file system (both in a private mount namespace), exact run ids."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from ccops.paths import private_dir
from ccops.store.records import RunIdError, Store, StoreError
from ccops.store.spool import SPOOL_NAME

RUN = "20260301T101500Z-aa11bb"


def start(store: Store, run_id: str = RUN, selectors: dict | None = None) -> None:
    store.start_run(
        run_id,
        "patch",
        operator="op",
        change_id="CHG-1",
        git_commit=None,
        inventory="inv",
        inventory_sha256="0" * 64,
        selectors=selectors or {"sites": ["tst"]},
        request={"verb": "patch"},
        plan=[{"name": "canary", "batches": []}],
    )


def result(host: str, outcome: str = "ok") -> dict:
    return {
        "host": host,
        "outcome": outcome,
        "changed": True,
        "message": None,
        "wave": "canary",
        "report": {"packages": 46},
    }


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "ccops.db"


def test_a_torn_spool_line_is_kept_aside_and_the_good_lines_merged(store_path):
    store = Store(store_path)
    start(store)
    spool = store_path.parent / "runs" / RUN / SPOOL_NAME
    spool.parent.mkdir(parents=True)
    good = {
        "op": "finish_run",
        "run_id": RUN,
        "ended": "2026-03-01T10:20:00+00:00",
        "status": "failed",
        "exit_code": 2,
        "message": "failed=1",
    }
    spool.write_text(json.dumps(good) + "\n" + '{"op": "record_hos')
    assert Store(store_path).run(RUN).status == "failed"
    assert not spool.exists()
    assert [p.name.endswith(".unreadable") for p in spool.parent.iterdir()] == [True]


def test_a_damaged_file_is_one_line_naming_it_and_what_to_do(store_path):
    store_path.parent.mkdir(parents=True)
    store_path.write_bytes(b"this is not sqlite\n" * 200)
    with pytest.raises(StoreError) as caught:
        Store(store_path)
    message = str(caught.value)
    assert message.startswith(f"{store_path}: the store is damaged") and "\n" not in message
    assert f"mv {store_path} {store_path}.damaged" in message


@pytest.mark.parametrize("keep", [0.5, 60])
def test_a_truncated_store_is_reported_as_damaged(store_path, keep):
    store = Store(store_path)
    for n in range(40):
        run_id = f"20260301T1015{n:02d}Z-aa11bb"
        start(store, run_id)
        store.record_hosts(run_id, [result(f"tst-t{i:02d}") for i in range(1, 30)])
    size = store_path.stat().st_size
    with store_path.open("r+b") as file:
        file.truncate(int(size * keep) if keep < 1 else int(keep))
    with pytest.raises(StoreError, match=r"the store is damaged.*move it aside"):
        Store(store_path).runs(100)


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_something_else_where_the_store_belongs_is_refused_without_hanging(store_path, kind):
    store_path.parent.mkdir(parents=True)
    if kind == "directory":
        store_path.mkdir()
    else:
        os.mkfifo(store_path)
    with pytest.raises(StoreError, match="where the store belongs; move it aside"):
        Store(store_path)


def test_bad_rows_are_shown_as_damaged_and_the_rest_of_the_history_stays(store_path):
    store = Store(store_path)
    for n in range(3):
        start(store, f"20260301T10150{n}Z-aa11bb")
        store.record_hosts(f"20260301T10150{n}Z-aa11bb", [result("tst-t01")])
    bad = "20260301T101501Z-aa11bb"
    with sqlite3.connect(store_path) as db:  # what a hand edit or a disk error leaves behind
        db.execute(
            "UPDATE runs SET selectors='{not json', exit_code='abc', operator=CAST(x'ff00' AS TEXT) WHERE id=?", (bad,)
        )
        db.execute("UPDATE host_results SET report='[1,' WHERE run_id=?", (bad,))
    runs = store.runs()
    assert [r.status for r in runs] == ["running", "damaged", "running"]
    damaged = runs[1]
    assert damaged.damaged == ["operator", "exit_code", "selectors"]
    assert damaged.message == "damaged record: unreadable operator, exit_code, selectors; status was running"
    assert damaged.request == {}  # so ccops resume refuses it: it may still be running under its pid
    record = store.run(bad)
    assert record.hosts[0]["outcome"] == "ok" and record.hosts[0]["damaged"] == ["report"]
    assert record.hosts[0]["message"] == "damaged: unreadable report"
    json.dumps(record.as_dict())  # still serialisable for --output json


def test_a_run_whose_plan_is_unreadable_cannot_be_resumed_into_doing_nothing(store_path):
    store = Store(store_path)
    start(store)
    with sqlite3.connect(store_path) as db:
        db.execute("UPDATE runs SET plan='{' WHERE id=?", (RUN,))
    record = store.run(RUN)
    assert record.status == "damaged" and record.plan == [] and record.request == {}


@pytest.mark.parametrize("text", ["", "   ", "%", "_", "2026030*", "20260301T1015??Z-aa11bb", "[2]", "2026\n"])
def test_empty_ids_and_patterns_are_refused(store_path, text):
    store = Store(store_path)
    start(store)
    with pytest.raises(RunIdError) as caught:
        store.run(text)
    assert "\n" not in str(caught.value)


def test_prefixes_must_be_long_and_unique_and_candidates_are_listed(store_path):
    store = Store(store_path)
    ids = [f"20260301T1015{n:02d}Z-aa11bb" for n in range(7)]
    for run_id in ids:
        start(store, run_id)
    start(store, "20260302T000000Z-cc22dd")
    start(store, "20270101T000000Z-ee33ff")
    with pytest.raises(
        RunIdError,
        match=r"'2026' matches 8 runs: 20260302T000000Z-cc22dd, "
        r"20260301T101506Z-aa11bb, .* and 3 more; give more of the id",
    ):
        store.run("2026")
    with pytest.raises(RunIdError, match="too short to name a run: give at least 8 characters"):
        store.run("2027")
    assert store.run("20260302").id == "20260302T000000Z-cc22dd"
    assert store.run("20260301T101503Z").id == ids[3]
    assert store.run(ids[5]).id == ids[5]
    assert store.run("20990101") is None


def test_the_store_file_and_state_folder_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        home = tmp_path / "home"
        home.mkdir(mode=0o777)
        home.chmod(0o777)
        private_dir(home)
        start(Store(home / "ccops.db"))
    finally:
        os.umask(old)
    assert oct(home.stat().st_mode & 0o777) == "0o700"
    assert oct((home / "ccops.db").stat().st_mode & 0o777) == "0o600"
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(Exception, match=r"a shared folder .* cannot hold ccops's private state"):
        private_dir(shared)


# -- a real read-only mount and a real full file system, in a private mount namespace ----------------
# As root, chmod does not stop a write, and SQLite's max_page_count is per connection (the store opens
# its own): a bind mount remounted read-only and a small tmpfs are what a user meets, and unshare -m
# keeps both invisible to the rest of the machine and gone when the process ends.
