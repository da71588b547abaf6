"""Run ids are exact, the store fails in one line, a busy store loses no host result, state is private.

Runs go against 127.0.0.9, a loopback address where nothing answers: hosts are unreachable within a second.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import time

import pytest

from ccops.store.records import Store
from tests.conftest import BIN, ROOT, ccops_env, site_text, write_inventory
from tests.integration.test_store_processes import held
from tests.unit.test_store import start


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


@pytest.fixture
def history(ccops) -> list[str]:
    store = Store(ccops.home / "ccops.db")
    ids = [f"20260301T1015{n:02d}Z-aa11bb" for n in range(3)] + ["20260302T000000Z-cc22dd"]
    for run_id in ids:
        start(store, run_id, selectors={"sites": ["lab"], "limit": ["tst-t0*", "a b"]})
        store.finish_run(run_id, "interrupted", 130, "interrupted")
    return ids


@pytest.mark.parametrize("text", ["", " ", "%", "_", "2026*", "?"])
def test_empty_and_pattern_ids_are_refused_by_show_and_resume(ccops, history, text):
    for command in (("runs", "show", text), ("resume", text, "--yes")):
        line = one_line_error(ccops(*command))
        assert "a run id is needed" in line or "is not a run id" in line


def test_a_short_or_shared_prefix_lists_the_candidates(ccops, history):
    line = one_line_error(ccops("runs", "show", "2026"))
    assert line == (
        "ccops: '2026' matches 4 runs: 20260302T000000Z-cc22dd, 20260301T101502Z-aa11bb, "
        "20260301T101501Z-aa11bb, 20260301T101500Z-aa11bb; give more of the id"
    )
    assert "matches 3 runs" in one_line_error(ccops("resume", "20260301", "--yes"))
    shown = ccops("runs", "show", "20260302")
    assert shown.returncode == 0 and shown.stdout.startswith("run 20260302T000000Z-cc22dd: patch interrupted")


def test_runs_show_prints_selectors_as_options(ccops, history):
    shown = ccops("runs", "show", history[0], check=True)
    assert "  selectors        --site lab --limit 'tst-t0*' --limit 'a b'\n" in shown.stdout


def test_a_damaged_row_is_listed_as_damaged_and_the_others_stay(ccops, history):
    with sqlite3.connect(ccops.home / "ccops.db") as db:
        db.execute("UPDATE runs SET selectors='{', request='[' WHERE id=?", (history[1],))
    listed = ccops("runs", "list", check=True).stdout.splitlines()
    assert [line.split()[2] for line in listed[1:]] == ["interrupted", "interrupted", "damaged", "interrupted"]
    shown = ccops("runs", "show", history[1], check=True).stdout
    assert "damaged record: unreadable selectors, request; status was interrupted" in shown
    refused = one_line_error(ccops("resume", history[1], "--yes"))
    assert "cannot be resumed" in refused


@pytest.mark.parametrize("damage", ["garbage", "directory"])
def test_a_damaged_store_is_one_line_naming_the_file(ccops, history, damage):
    path = ccops.home / "ccops.db"
    path.unlink()
    if damage == "garbage":
        path.write_bytes(os.urandom(8192))
    else:
        path.mkdir()
    line = one_line_error(ccops("runs", "list"))
    assert line.startswith(f"{path}: ") and "move it aside" in line


def test_a_locked_store_is_waited_for_then_one_line(ccops, history):
    env = {**ccops_env(ccops.home), "CCOPS_STORE_TIMEOUT": "1"}
    with held(ccops.home / "ccops.db"):
        began = time.monotonic()
        line = one_line_error(ccops("runs", "list", env=env))
        assert time.monotonic() - began >= 1
    assert (
        line == f"{ccops.home / 'ccops.db'}: another ccops holds the store; waited 1 s; try again when it "
        "has finished (CCOPS_STORE_TIMEOUT sets the wait)"
    )


def test_host_results_of_a_run_survive_a_store_locked_while_it_ran(ccops, tmp_path):
    inventory = write_inventory(tmp_path / "inv", {"tst.yml": site_text(count=2, address="127.0.0.9")})
    Store(ccops.home / "ccops.db")
    env = {**ccops_env(ccops.home), "CCOPS_STORE_TIMEOUT": "1"}
    run = subprocess.Popen(
        [str(BIN / "ccops"), "inspect", "-i", str(inventory), "--limit", "tst-t01"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs = ccops.home / "runs"
    deadline = time.monotonic() + 60
    while not (runs.is_dir() and any(runs.iterdir())):  # marker: the run is recorded and its batch starts
        assert time.monotonic() < deadline and run.poll() is None, run.communicate()
        time.sleep(0.02)
    run_dir = next(runs.iterdir())
    with held(ccops.home / "ccops.db"):
        out, err = run.communicate(timeout=120)
        assert run.returncode == 2, (out, err)  # the run finished: its host was unreachable
        assert (run_dir / "store-pending.jsonl").is_file(), "the batch ended before the lock was taken"
    shown = ccops("runs", "show", run_dir.name, "--output", "json", check=True)
    assert '"status": "failed"' in shown.stdout and '"outcome": "unreachable"' in shown.stdout
    assert not (run_dir / "store-pending.jsonl").exists()


def test_state_is_private_under_umask_000(ccops, tmp_path):
    inventory = write_inventory(tmp_path / "inv", {"tst.yml": site_text(count=2, address="127.0.0.9")})
    ccops.home.mkdir(mode=0o777)
    ccops.home.chmod(0o777)  # a looser folder from before is tightened
    result = subprocess.run(
        [str(BIN / "ccops"), "inspect", "-i", str(inventory), "--limit", "tst-t01"],
        cwd=ROOT,
        env=ccops_env(ccops.home),
        capture_output=True,
        text=True,
        timeout=300,
        umask=0,
        check=False,
    )
    assert result.returncode == 2, result.stderr  # unreachable, and the run is recorded
    paths = [ccops.home, *ccops.home.rglob("*")]
    assert len(paths) > 10 and any(p.name == "ccops.db" for p in paths)
    loose = [
        f"{stat.S_IMODE(p.lstat().st_mode):o} {p}" for p in paths if not p.is_symlink() and p.lstat().st_mode & 0o077
    ]
    assert loose == []


def test_a_shared_ccops_home_is_refused_not_chmod_ed(ccops, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    result = ccops("runs", "list", env=ccops_env(shared))
    assert "cannot hold ccops's private state" in one_line_error(result)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
