"""How close `ccops plan`'s estimate comes to the run it estimates, on the container lab.

History: inspections of the lab on fewer hosts (one batch each, of different sizes), in a
private CCOPS_HOME, after one inspection of every host in another home (a host's first
inspection fills its caches, which no later night repeats). Then `ccops plan inspect -o json`
on every host, a size never run, gives the estimate; the inspection itself gives the actual,
both as the run record times it and as the operator waits for the command. Runs under the
lab lock; the lab is removed after.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.figures import BIN, ROOT, Bench, Figure

SECTION = "capacity"
NEEDS_LAB = True
TARGET = 25.0  # per cent off the actual, either way
LAB_LOCK = "/tmp/ccops-lab.lock"  # noqa: S108 (the one lab lock every lab user on this machine takes)
# lab hosts are made round-robin over the variants: the first N of this order are the first N made
ORDER = [f"lab-deb{v}-{i:02d}" for i in range(1, 4) for v in (11, 12, 13)]


@contextmanager
def lab_lock() -> Iterator[None]:
    with open(LAB_LOCK, "a") as lock:  # noqa: PTH123
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ccops(env: dict[str, str], *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(BIN / "ccops"), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ccops {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    return proc


def inspect(env: dict[str, str], hosts: int) -> tuple[float, float]:
    """One inspection of the first ``hosts`` lab hosts: (run record's seconds, command's wall seconds)."""
    limits = [arg for name in ORDER[:hosts] for arg in ("--limit", name)]
    start = time.perf_counter()
    ran = ccops(env, "inspect", "-i", "inventory/lab", *limits, "--output", "json")
    wall = time.perf_counter() - start
    run_id = json.loads(ran.stdout)["data"]["run_id"]  # ccops's JSON envelope: the answer is its data
    record = json.loads(ccops(env, "runs", "show", run_id, "--output", "json").stdout)["data"]
    return _seconds(record["started"], record["ended"]), wall


def _seconds(started: str, ended: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()


def measure(bench: Bench) -> list[Figure]:
    history, target = ([2, 3], 4) if bench.quick else ([2, 4, 2, 4], 6)
    env = {**bench.env, "CCOPS_HOME": str(bench.folder("capacity-home"))}
    env.pop("CCOPS_INVENTORY", None)
    with lab_lock():
        try:
            ccops(env, "lab", "up", "--hosts", str(target), timeout=3600)
            # every host's first inspection is slower (nothing cached yet): done once, kept out of the history
            inspect({**env, "CCOPS_HOME": str(bench.folder("capacity-warm-up"))}, target)
            past = [(hosts, *inspect(env, hosts)) for hosts in history]
            limits = [arg for name in ORDER[:target] for arg in ("--limit", name)]
            plan = json.loads(ccops(env, "plan", "inspect", "-i", "inventory/lab", *limits, "-o", "json").stdout)[
                "data"
            ]
            estimate = plan["estimate"]["seconds"]
            recorded, wall = inspect(env, target)
        finally:
            subprocess.run([str(BIN / "ccops"), "lab", "down"], cwd=ROOT, env=env, capture_output=True, check=False)
    if estimate is None:
        return [Figure(SECTION, "inspect estimate", float("nan"), "s", plan["estimate"]["note"], "a figure", False)]
    sizes = "+".join(map(str, history))
    return [
        *(Figure(SECTION, f"history: inspect of {n} hosts (run record)", rec, "s") for n, rec, _ in past),
        Figure(
            SECTION,
            f"estimate for {target} hosts (ccops plan)",
            estimate,
            "s",
            f"from {plan['estimate']['runs']} past runs",
        ),
        _error(f"estimate off the run record, {target} hosts", estimate, recorded, sizes),
        _error(f"estimate off the command's wall time, {target} hosts", estimate, wall, sizes),
    ]


def _error(name: str, estimate: float, actual: float, sizes: str) -> Figure:
    off = 100 * abs(estimate - actual) / actual
    anchor = f"est {estimate:.0f} s / actual {actual:.0f} s (hist {sizes})"
    return Figure(SECTION, name, off, "%", anchor, f"<= {TARGET:.0f} %", off <= TARGET)
