"""The record store against real failures: a second process holding the lock, damaged files and rows,
a read-only mount and a full file system (both in a private mount namespace), exact run ids."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ccops.store.db import StoreBusy
from ccops.store.records import Store
from ccops.store.spool import SPOOL_NAME
from tests.conftest import ROOT
from tests.unit.test_store import RUN, result, start


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "home" / "ccops.db"


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
    from ccops.store.records import Store, StoreError
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
