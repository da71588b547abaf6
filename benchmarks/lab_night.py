"""The nightly job on the container lab: ``ccops inspect`` against today's role run by a plain tuned
``ansible-playbook``, a patch run with nothing to do against a real one, and whether the lab boots
30 hosts (kernel limits raised by ``lab up``).

Takes the lab lock itself (/tmp/ccops-lab.lock, held while it runs: do not wrap it in flock),
reshapes the lab and leaves it at the size tests/lab expects (3 hosts).
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from benchmarks.figures import BIN, ROOT, Bench, Figure

SECTION = "lab_night"
NEEDS_LAB = True
LOCK = Path("/tmp/ccops-lab.lock")  # noqa: S108 (the one lab lock every session on this machine takes)
TODAY = "2e40aa7"  # main before issue 25's nightly work: the role the plain playbook runs
INSPECT_TARGET = 0.5
NOOP_TARGET = 0.05
NORMAL_SIZE = 3  # what tests/lab expects
# CCOPS_BENCH_LAB_NIGHT=patch: only the patch figures (a real patch of fresh hosts, then a no-op one)
ONLY_ENV = "CCOPS_BENCH_LAB_NIGHT"
PLAIN_PLAY = """\
- name: Inspect hosts with today's asset role, as a plain playbook
  hosts: all
  gather_facts: false
  roles:
    - role: asset
      vars:
        ccops_action: inspect
"""


@contextmanager
def _lab_lock() -> Iterator[None]:
    with LOCK.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ccops(env: dict[str, str], *args: str, timeout: float = 3600) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "ccops"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return time.perf_counter() - start, done


def _up_hosts(env: dict[str, str]) -> list[str]:
    _, done = _ccops(env, "lab", "status", "--output", "json")
    hosts = json.loads(done.stdout)["data"] if done.stdout else []  # ccops's JSON envelope: its data
    return sorted(h["host"] for h in hosts if h.get("ssh") == "ok")


def _todays_role(scratch: Path) -> Path:
    """roles/asset as it was before this work, in a roles folder of its own."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", TODAY, "roles/asset"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(scratch, filter="data")
    (scratch / "plain.yml").write_text(PLAIN_PLAY)
    return scratch


def _plain(env: dict[str, str], scratch: Path, hosts: list[str]) -> float:
    """Today's role by stock ansible-playbook: pipelining, forks = the host count, no fact cache."""
    tuned = {
        **env,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_ROLES_PATH": str(scratch / "roles"),
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_FORKS": str(len(hosts)),
        "ANSIBLE_CACHE_PLUGIN": "memory",
    }
    argv = [
        str(BIN / "ansible-playbook"),
        "-i",
        "inventory/lab",
        "--limit",
        ",".join(hosts),
        str(scratch / "plain.yml"),
    ]
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=tuned, capture_output=True, check=True, timeout=3600)
    return time.perf_counter() - start


def _inspect(env: dict[str, str], hosts: list[str]) -> float:
    seconds, done = _ccops(env, "inspect", "--forks", str(len(hosts)), "--output", "json")
    if done.returncode != 0:
        raise RuntimeError(f"ccops inspect exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds


def _patch(env: dict[str, str], change: str) -> tuple[float, dict[str, object]]:
    seconds, done = _ccops(env, "patch", "--yes", "--change-id", change, "--output", "json")
    if done.returncode != 0:
        raise RuntimeError(f"ccops patch exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)["data"]


def measure(bench: Bench) -> list[Figure]:
    env = {**bench.env, "CCOPS_HOME": str(bench.folder("lab-night-home")), "PATH": f"{BIN}:{bench.env.get('PATH', '')}"}
    env.pop("CCOPS_INVENTORY", None)
    only_patch = bench.env.get(ONLY_ENV) == "patch"
    size, patched = (6, 6) if bench.quick else (30, 6)
    figures = []
    with _lab_lock():
        try:
            if only_patch:  # fresh hosts: their updates still pending, whatever ran on the lab before
                _ccops(env, "lab", "down")
            else:
                figures += _inspect_figures(env, size, bench.folder("lab-night-plain"))
            _ccops(env, "lab", "up", "--hosts", str(patched))
            figures += _patch_figures(env, patched)
        finally:
            _ccops(env, "lab", "up", "--hosts", str(NORMAL_SIZE))
    return figures


def _inspect_figures(env: dict[str, str], size: int, plain_folder: Path) -> list[Figure]:
    _ccops(env, "lab", "up", "--hosts", str(size))
    hosts = _up_hosts(env)
    label = f"lab up --hosts {size}: hosts up"
    booted = Figure(SECTION, label, len(hosts), "", "29 of 30 (stock limits)", f"= {size}", len(hosts) == size)
    scratch = _todays_role(plain_folder)
    _plain(env, scratch, hosts)  # warm: images' first connection, host keys
    plain = _plain(env, scratch, hosts)
    first = _inspect(env, hosts)  # stores every host's package set
    nightly = _inspect(env, hosts)
    return [
        booted,
        Figure(SECTION, f"plain ansible-playbook, today's role, {len(hosts)} hosts", plain, "s"),
        Figure(SECTION, "ccops inspect, first night (sets sent)", first, "s", f"plain: {plain:.1f} s"),
        Figure(
            SECTION,
            "ccops inspect, a night (sets unchanged)",
            nightly / plain,
            "x",
            f"plain: {plain:.1f} s",
            f"<= {INSPECT_TARGET}x",
            nightly / plain <= INSPECT_TARGET,
        ),
    ]


def _patch_figures(env: dict[str, str], patched: int) -> list[Figure]:
    """A real patch of fresh hosts, then the same again with nothing left to do (the select pass alone)."""
    real, _ = _patch(env, "CHG-BENCH-1")
    noop, record = _patch(env, "CHG-BENCH-2")
    reports = record.get("reports")
    all_up_to_date = (
        isinstance(reports, dict)
        and len(reports) == patched
        and all(isinstance(r, dict) and r.get("outcome") == "up_to_date" for r in reports.values())
    )
    return [
        Figure(SECTION, f"ccops patch, {patched} hosts with updates", real, "s"),
        Figure(
            SECTION,
            "ccops patch, nothing to do (ratio to a real one)",
            noop / real,
            "x",
            f"real: {real:.0f} s; noop {noop:.1f} s",
            f"<= {NOOP_TARGET}x",
            noop / real <= NOOP_TARGET and all_up_to_date,
        ),
    ]
