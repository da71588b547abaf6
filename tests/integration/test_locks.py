"""One changing run per host: real ccops processes, real Ansible, loopback hosts that never answer."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ccops.locks import LockError, Locks
from ccops.processes import Process, ansible_processes, boot_id, machine_id, start_ticks, wait_or_stop
from ccops.run.resume import _still_running
from tests.conftest import BIN, ROOT, ccops_env, run_ccops, site_text, write_inventory
from tests.json_output import payload


def _silent_host(tmp_path: Path) -> tuple[socket.socket, Path]:
    """A host at 127.0.0.9 that accepts the TCP connection and never says a word, so Ansible
    waits on it (ansible.cfg: timeout = 30) with the run's lock held."""
    listener = socket.socket()
    listener.bind(("127.0.0.9", 0))
    listener.listen(4)
    listener.settimeout(90)
    text = site_text(count=1, address="127.0.0.9").replace(
        "addresses: 127.0.0.9", f"addresses: 127.0.0.9\n    port: {listener.getsockname()[1]}"
    )
    return listener, write_inventory(tmp_path / "inv", {"a.yml": text})


def _patch(home: Path, inventory: Path, operator: str) -> list[str]:
    return [
        str(BIN / "ccops"),
        "patch",
        "-i",
        str(inventory),
        "--yes",
        "--emergency",
        "--change-id",
        f"CHG-{operator}",
        "--output",
        "json",
    ]


def test_a_second_changing_run_on_a_host_is_refused_naming_the_first(tmp_path):
    home = tmp_path / "home"
    listener, inventory = _silent_host(tmp_path)
    first = subprocess.Popen(
        _patch(home, inventory, "first"),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**ccops_env(home), "CCOPS_OPERATOR": "first"},
    )
    try:
        conn, _ = listener.accept()  # marker: the first run's Ansible is connecting to the host
        first.send_signal(signal.SIGSTOP)  # hold it there however slow this machine is
        try:
            run_id = payload(run_ccops(home, "runs", "list", "-o", "json", check=True).stdout)[0]["run_id"]
            second = run_ccops(
                home, *_patch(home, inventory, "second")[1:], env={**ccops_env(home), "CCOPS_OPERATOR": "second"}
            )
        finally:
            first.send_signal(signal.SIGCONT)
        conn.close()
        out, _err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
        listener.close()
    assert second.returncode == 1 and second.stdout == "", second.stderr
    line = second.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert f"tst-t01 held by run {run_id} (patch by first, pid {first.pid} on {socket.gethostname()}" in line
    assert first.returncode == 3 and payload(out)["run_id"] == run_id  # it halted on its unreachable canary
    assert len(payload(run_ccops(home, "runs", "list", "-o", "json", check=True).stdout)) == 1
    # the first run ended: its lock went with it, and the same command now runs
    again = run_ccops(home, *_patch(home, inventory, "second")[1:])
    assert again.returncode == 3, again.stderr
    assert Locks(home).holder(run_id) is None


HOLD = """
import sys, time
from pathlib import Path
from ccops.locks import Locks
Locks(Path(sys.argv[1])).acquire(sys.argv[2], "patch", "night-shift", sys.argv[3:])
print("held", flush=True)
time.sleep(600)
"""


def _holder_process(home: Path, run_id: str, *hosts: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home), run_id, *hosts],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_is_refused_across_processes_then_taken_over_when_its_holder_is_killed(tmp_path):
    holder = _holder_process(tmp_path, "RUN-A", "h1", "h2")
    locks = Locks(tmp_path)
    with pytest.raises(LockError, match=rf"h2 held by run RUN-A \(patch by night-shift, pid {holder.pid} on"):
        locks.acquire("RUN-B", "patch", "day-shift", ["h2", "h3"])
    locks.acquire("RUN-C", "patch", "day-shift", ["h3"])  # other hosts are free
    holder.kill()  # kill -9: no cleanup ran, the lock stays
    holder.wait()
    assert locks.holder("RUN-A").hosts == ["h1", "h2"]
    notes = locks.acquire("RUN-B", "patch", "day-shift", ["h2"])
    [note] = notes
    assert note.startswith(
        f"took over 2 host lock(s) from run RUN-A (patch by night-shift, pid {holder.pid} on "
        f"{socket.gethostname()}, since "
    ) and note.endswith(": its process is gone")
    assert "RUN-B: took over 2 host lock(s) from run RUN-A" in (tmp_path / "locks.log").read_text()
    assert oct((tmp_path / "locks.log").stat().st_mode & 0o777) == "0o600"
    assert locks.holder("RUN-A") is None and locks.holder("RUN-B").hosts == ["h2"]


def test_a_lock_whose_pid_now_belongs_to_another_process_is_stale(tmp_path):
    locks = Locks(tmp_path)
    me = Process.me()
    locks.acquire("RUN-OLD", "patch", "night-shift", ["h1"], me=Process(me.pid, me.started - 1, me.boot, me.machine))
    notes = locks.acquire("RUN-NEW", "patch", "day-shift", ["h1"])
    assert notes and notes[0].endswith(f"pid {me.pid} is another process now")
    # the same identity, alive: respected
    with pytest.raises(LockError, match=r"RUN-NEW .* is still running; wait for it to finish"):
        locks.acquire("RUN-OTHER", "patch", "x", ["h1"])


def test_a_lock_from_another_machine_is_never_guessed_at_and_unlock_releases_it(tmp_path):
    locks = Locks(tmp_path)
    elsewhere = Process(os.getpid(), 1, "another-boot", "0123456789abcdef/jump-2")  # a dead-looking pid there
    locks.acquire("RUN-J2", "patch", "night-shift", ["h1"], me=elsewhere)
    with pytest.raises(LockError) as refused:
        locks.acquire("RUN-J1", "patch", "day-shift", ["h1"])
    assert "h1 held by run RUN-J2 (patch by night-shift, pid" in str(refused.value)
    assert "on jump-2" in str(refused.value) and "ccops runs unlock RUN-J2" in str(refused.value)
    env = ccops_env(tmp_path)
    unconfirmed = run_ccops(tmp_path, "runs", "unlock", "RUN-J2", env=env)
    assert unconfirmed.returncode == 5 and "pass --yes" in unconfirmed.stderr
    assert locks.holder("RUN-J2") is not None
    released = run_ccops(tmp_path, "runs", "unlock", "RUN-J2", "--yes", env=env)
    assert released.returncode == 0 and "h1" in released.stdout, released.stderr
    assert "unlocked by" in (tmp_path / "locks.log").read_text()
    assert locks.acquire("RUN-J1", "patch", "day-shift", ["h1"]) == []
    alive = run_ccops(tmp_path, "runs", "unlock", "RUN-J1", "--yes", env=env)
    assert alive.returncode == 1 and "holds no lock" not in alive.stderr  # RUN-J1's holder (this test) is alive
    assert "is still running" in alive.stderr


RACE = """
import sys, time
from pathlib import Path
from ccops.locks import Locks, LockError
locks, go = Locks(Path(sys.argv[1])), Path(sys.argv[1]) / "go"
while not go.exists():
    time.sleep(0.005)
try:
    locks.acquire(sys.argv[2], "patch", "racer", ["h1"])
    print("won", sys.argv[2], flush=True)
except LockError as exc:
    print("refused", exc, flush=True)
time.sleep(float(sys.argv[3]))
"""


def test_racing_processes_never_both_win(tmp_path):
    Locks(tmp_path)
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(tmp_path), f"RUN-{i}", "2"], stdout=subprocess.PIPE, text=True
        )
        for i in range(4)
    ]
    time.sleep(1)  # all of them waiting for the flag (not a correctness condition: any start order must work)
    (tmp_path / "go").touch()
    results = sorted(r.communicate(timeout=60)[0].strip() for r in racers)
    assert [r.split()[0] for r in results] == ["refused", "refused", "refused", "won"]
    winner = results[-1].split()[1]
    # the losers waited for the winner's transaction and were refused naming it (no "store busy" error)
    assert all(r.startswith(f"refused h1 held by run {winner} (patch by racer") for r in results[:3]), results


def test_a_dead_run_whose_ansible_still_runs_keeps_its_hosts_until_it_is_stopped(tmp_path):
    holder = _holder_process(tmp_path, "RUN-K", "h1")
    ansible = subprocess.Popen(["sleep", "600"], start_new_session=True)  # stands in for its ansible-playbook
    locks = Locks(tmp_path)
    locks.record_ansible("RUN-K", "w1-b1-a1", ansible.pid, ["h1"])
    holder.kill()
    holder.wait()
    with pytest.raises(LockError, match="its Ansible is still running; ccops resume RUN-K waits for it"):
        locks.acquire("RUN-NEW", "patch", "day-shift", ["h1"])
    with pytest.raises(LockError, match=r"Ansible pid .* is still running"):
        locks.unlock("RUN-K", "day-shift")
    assert locks.acquire("RUN-K", "patch", "night-shift", ["h1"])  # its own resume takes the lock over
    [left] = locks.leftover_ansible("RUN-K")
    assert left.process.pid == ansible.pid and left.hosts == ["h1"]
    said: list[str] = []
    started = time.monotonic()
    assert wait_or_stop(left.process, 1, said.append, grace=5, poll=0.1) == "stopped"
    assert ansible.wait(timeout=10) == -signal.SIGTERM and time.monotonic() - started < 10
    assert said == [f"stopping Ansible pid {ansible.pid} (SIGTERM)"]
    assert locks.leftover_ansible("RUN-K") == []


def test_a_zombie_is_not_alive_and_a_finished_process_is_waited_for(tmp_path):
    child = subprocess.Popen(["sleep", "0.3"])
    process = Process.of(child.pid)
    assert process.state() == "alive" and process.machine == machine_id() and process.boot == boot_id()
    assert wait_or_stop(process, 30, print, poll=0.05) == "finished"  # a zombie until reaped: already over
    assert start_ticks(child.pid) is None
    child.wait()


def test_a_record_that_kept_only_a_pid_does_not_block_resume_once_the_pid_is_reused():
    assert _still_running(os.getpid(), "2999-01-01T00:00:00+00:00")  # started before the run: the run itself
    assert not _still_running(os.getpid(), "2000-01-01T00:00:00+00:00")  # a younger process got the number
    assert not _still_running(None, "2000-01-01T00:00:00+00:00")


def test_a_runs_ansible_is_found_by_its_run_folder_and_its_forked_workers_are_not_counted(tmp_path):
    script = tmp_path / "bin" / "ansible-playbook"  # forks a worker with its own command line, as Ansible does
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\nimport os, time\nos.fork()\nos.write(1, b'up\\n')\ntime.sleep(60)\n")
    script.chmod(0o700)
    run_dir = tmp_path / "runs" / "RUN-F"
    playbook = subprocess.Popen(
        [str(script), "--limit", f"@{run_dir}/limit-w1-b1-a1", "patch.yml"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert playbook.stdout.read(6) == "up\nup\n"  # both running
        assert [p.pid for p in ansible_processes(run_dir)] == [playbook.pid]
        assert ansible_processes(tmp_path / "runs" / "RUN-G") == []
        assert [a.process.pid for a in Locks(tmp_path).leftover_ansible("RUN-F")] == [playbook.pid]
    finally:
        os.killpg(playbook.pid, signal.SIGKILL)
        playbook.wait()
