"""The record store against real failures: a second process holding the lock, damaged files and rows,
a read-only mount and a full file system (both in a private mount namespace), exact run ids."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ccops.paths import private_dir
from ccops.records import RunIdError, Store, StoreError
from ccops.store_db import StoreBusy
from ccops.store_spool import SPOOL_NAME
from tests.conftest import ROOT

RUN = "20260301T101500Z-aa11bb"

# Holds the store's write lock (BEGIN EXCLUSIVE also keeps readers out in rollback-journal mode) until told.
LOCKER = textwrap.dedent("""\
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.readline()
    db.execute("COMMIT")
""")


@contextmanager
def held(path: Path) -> Iterator[None]:
    locker = subprocess.Popen(
        [sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert locker.stdout.readline().strip() == "locked"
        yield
    finally:
        locker.stdin.write("\n")
        locker.stdin.close()
        assert locker.wait(timeout=30) == 0


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


def test_a_result_recorded_while_another_process_holds_the_store_reaches_it_later(store_path):
    store = Store(store_path, timeout=0.5)
    start(store)
    spool = store_path.parent / "runs" / RUN / SPOOL_NAME
    with held(store_path):
        began = time.monotonic()
        store.record_hosts(RUN, [result("tst-t01")])  # busy: waits, then keeps it aside, no error
        assert time.monotonic() - began >= 0.4
        assert spool.is_file() and oct(spool.stat().st_mode & 0o777) == "0o600"
        with pytest.raises(StoreBusy, match=r"another ccops holds the store; waited \d+ s"):
            store.runs()
    reopened = Store(store_path)  # the next open merges what was kept aside
    hosts = reopened.run(RUN).hosts
    assert [(h["host"], h["outcome"], h["report"]) for h in hosts] == [("tst-t01", "ok", {"packages": 46})]
    assert not spool.exists()


def test_the_run_s_next_write_flushes_its_spool_first_in_order(store_path):
    store = Store(store_path, timeout=0.3)
    start(store)
    with held(store_path):
        store.record_hosts(RUN, [result("tst-t01", "failed")])
        store.record_hosts(RUN, [result("tst-t01", "ok"), result("tst-t02")])
    store.finish_run(RUN, "succeeded", 0, "ok=2")
    record = store.run(RUN)
    assert {h["host"]: h["outcome"] for h in record.hosts} == {"tst-t01": "ok", "tst-t02": "ok"}
    assert record.status == "succeeded"
    assert not (store_path.parent / "runs" / RUN / SPOOL_NAME).exists()


def test_a_lock_released_within_the_timeout_is_waited_for(store_path):
    store = Store(store_path, timeout=20)
    start(store)
    done = threading.Event()
    with held(store_path):
        writer = threading.Thread(target=lambda: (store.record_hosts(RUN, [result("tst-t01")]), done.set()))
        writer.start()
        time.sleep(0.5)  # the writer is waiting on the lock (if it has not started yet, it simply runs later)
        assert not done.is_set()
    writer.join(timeout=20)
    assert done.is_set()
    assert not (store_path.parent / "runs" / RUN).exists()  # written directly, nothing kept aside
    assert store.run(RUN).hosts[0]["host"] == "tst-t01"


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


def namespaced(home: Path, mount: str, script: str) -> subprocess.CompletedProcess:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a private mount namespace")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("unshare -m is not permitted here")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HOME_UNDER_TEST": str(home), "RUN_UNDER_TEST": RUN}
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", f'{mount} && exec "$0" -c "$1"', sys.executable, textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


PRELUDE = """\
    import os, sys
    from pathlib import Path
    from ccops.records import Store, StoreError
    home = Path(os.environ["HOME_UNDER_TEST"])
    run = os.environ["RUN_UNDER_TEST"]
    def attempt(call):
        try:
            call()
            print("ok")
        except StoreError as exc:
            print("ERROR", exc)
"""


def test_a_read_only_store_is_still_read_and_refuses_writes_in_one_line(tmp_path):
    home = tmp_path / "home"
    store = Store(home / "ccops.db", timeout=0.3)
    start(store)
    with held(home / "ccops.db"):  # a result kept aside, that the read-only store cannot take yet
        store.finish_run(RUN, "failed", 2, "failed=1")
    assert (home / "runs" / RUN / SPOOL_NAME).is_file()
    script = (
        PRELUDE
        + """\
    store = Store(home / "ccops.db")
    print(len(store.runs()), store.run(run).status)
    attempt(lambda: store.start_run("20260301T111111Z-ffffff", "patch", operator="op", change_id=None,
            git_commit=None, inventory="i", inventory_sha256="0", selectors={}, request={}, plan=[]))
    """
    )
    proc = namespaced(home, f"mount --bind {home} {home} && mount -o remount,ro,bind {home} {home}", script)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "1 running"
    assert lines[1].startswith(f"ERROR {home / 'ccops.db'}: the store is read-only")
    assert "set CCOPS_HOME to a writable folder" in lines[1] and len(lines) == 2
    assert Store(home / "ccops.db").run(RUN).status == "failed"  # writable again: merged


def test_a_full_file_system_is_one_line_naming_it_and_keeps_the_outcomes_in_that_line(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    script = (
        PRELUDE
        + """\
    store = Store(home / "ccops.db")
    store.start_run(run, "patch", operator="op", change_id=None, git_commit=None, inventory="i",
                    inventory_sha256="0", selectors={}, request={}, plan=[])
    filler = os.open(home / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:  # take every free block
        while True:
            os.write(filler, b"x" * 4096)
    except OSError:
        os.close(filler)
    rows = [{"host": f"tst-t{n:02d}", "outcome": "ok", "report": {"blob": "y" * 20000}} for n in (1, 2)]
    attempt(lambda: store.record_hosts(run, rows))
    print(len(store.runs()))
    os.unlink(home / "filler")
    attempt(lambda: store.record_hosts(run, rows))
    print(sorted(h["host"] for h in store.run(run).hosts))
    """
    )
    proc = namespaced(home, f"mount -t tmpfs -o size=256k,mode=0700 ccops-full {home}", script)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"ERROR {home / 'ccops.db'}: no space left for the store"), lines
    assert f"free space on {home}" in lines[0]
    assert "tst-t01=ok, tst-t02=ok" in lines[0]  # not lost: the user still has the outcomes
    assert lines[1:] == ["1", "ok", "['tst-t01', 'tst-t02']"]
