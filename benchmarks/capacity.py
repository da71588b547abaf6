"""How close `ccops plan`'s estimate comes to the runs it estimates, on the container lab.

Two histories, each in its own CCOPS_HOME, written turn about so a change of the machine's load
falls on both alike:
- the nightly case: the same selection as the past nights (3 inspections of every host), then each
  of the next nights estimated by `ccops plan` from the nights before it and run (a forecast a night);
- the extrapolating case: inspections of fewer hosts (2, 3 and 4 of them), then one estimate for
  every host, a size never run there, set against the same nights.
Every host is inspected before, in another home, until two inspections in a row agree within
15 % (a host's first inspection fills its caches, which no later night repeats; a lab just made
or cut down is busy for a while). The actual is the run as its record times it and as the operator
waits for the command. The machine is shared: one night's time swings with its load, so each
night's error is printed and the median over the nights beside it. Runs under the lab lock; the
lab is removed after. CCOPS_BENCH_CAPACITY_KEEP=<folder> keeps the homes there, to re-estimate later.
"""

from __future__ import annotations

import fcntl
import json
import os
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import zip_longest
from pathlib import Path

from benchmarks.figures import BIN, ROOT, Bench, Figure

SECTION = "capacity"
NEEDS_LAB = True
TARGET = 25.0  # per cent off the actual, either way
SETTLED = 0.15  # two warm-up inspections this close (a share of the longer) and the lab is settled
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


def limits(hosts: int) -> list[str]:
    return [arg for name in ORDER[:hosts] for arg in ("--limit", name)]


def inspect(env: dict[str, str], hosts: int) -> tuple[float, float]:
    """One inspection of the first ``hosts`` lab hosts: (run record's seconds, command's wall seconds)."""
    start = time.perf_counter()
    ran = ccops(env, "inspect", "-i", "inventory/lab", *limits(hosts), "--output", "json")
    wall = time.perf_counter() - start
    run_id = json.loads(ran.stdout)["data"]["run_id"]  # ccops's JSON envelope: the answer is its data
    record = json.loads(ccops(env, "runs", "show", run_id, "--output", "json").stdout)["data"]
    return _seconds(record["started"], record["ended"]), wall


def planned(env: dict[str, str], hosts: int) -> dict[str, object]:
    """`ccops plan inspect`'s estimate for the first ``hosts`` lab hosts."""
    doc = json.loads(ccops(env, "plan", "inspect", "-i", "inventory/lab", *limits(hosts), "-o", "json").stdout)
    estimate: dict[str, object] = doc["data"]["estimate"]
    return estimate


def _seconds(started: str, ended: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds()


def _homes(bench: Bench) -> dict[str, dict[str, str]]:
    keep = os.environ.get("CCOPS_BENCH_CAPACITY_KEEP")
    env = {k: v for k, v in bench.env.items() if k != "CCOPS_INVENTORY"}

    def home(name: str) -> dict[str, str]:
        folder = Path(keep, name) if keep else bench.folder(f"capacity-{name}")
        folder.mkdir(parents=True, exist_ok=True)
        return {**env, "CCOPS_HOME": str(folder)}

    return {name: home(name) for name in ("warm-up", "nightly", "extrapolating")}


def measure(bench: Bench) -> list[Figure]:
    target, nights, growing, forecasts = (4, 2, [2, 3], 1) if bench.quick else (6, 3, [2, 3, 4], 3)
    homes = _homes(bench)
    figures: list[Figure] = []
    ran: list[tuple[dict[str, object], float, float]] = []  # (the plan's estimate, run record s, wall s)
    loads: list[str] = []
    with lab_lock():
        try:
            ccops(homes["warm-up"], "lab", "up", "--hosts", str(target), timeout=3600)
            settle(homes["warm-up"], target)
            for night, smaller in zip_longest(range(nights), growing):  # turn about: load drift falls on both
                for case, hosts in (("nightly", None if night is None else target), ("extrapolating", smaller)):
                    if hosts is not None:
                        recorded, _ = inspect(homes[case], hosts)
                        name = f"{case} history: inspect of {hosts} hosts"
                        figures.append(Figure(SECTION, name, recorded, "s", load()))
            extrapolated = planned(homes["extrapolating"], target)
            for _ in range(forecasts):  # each night estimated from the nights before it, then run
                estimate = planned(homes["nightly"], target)
                ran.append((estimate, *inspect(homes["nightly"], target)))
                loads.append(load())
        finally:
            subprocess.run(
                [str(BIN / "ccops"), "lab", "down"], cwd=ROOT, env=homes["warm-up"], capture_output=True, check=False
            )
    for night, (estimate, recorded, wall) in enumerate(ran, start=nights + 1):
        name = f"actual: night {night}, inspect of {target} hosts"
        figures.append(Figure(SECTION, name, recorded, "s", loads[night - nights - 1]))
        figures += _forecast(f"nightly: night {night}", estimate, recorded, wall, f"{night - 1} nights of {target}")
    figures += _against(f"nightly: median of nights {nights + 1}-{nights + forecasts}", ran)
    figures.append(_spread([f.value for f in figures if f.name.startswith("nightly history")] + [r for _, r, _ in ran]))
    history = "+".join(map(str, growing))
    figures += _forecast(f"extrapolating: night {nights + 1}", extrapolated, *ran[0][1:], f"hist {history}")
    figures += _against("extrapolating: median over those nights", [(extrapolated, r, w) for _, r, w in ran])
    return figures


def settle(env: dict[str, str], hosts: int, tries: int = 5) -> None:
    """Inspect every host until two inspections in a row agree within 15 % (at most ``tries``): a host's
    first inspection fills its caches, and a lab just made or cut down is still busy for a while."""
    before = None
    for _ in range(tries):
        _, seconds = inspect(env, hosts)  # the command's wall time: the run record counts whole seconds
        if before is not None and abs(seconds - before) <= SETTLED * max(seconds, before):
            return
        before = seconds


def load() -> str:
    """The machine's load over the last minute: the lab shares its cores with whatever else runs."""
    return f"load {os.getloadavg()[0]:.1f}"


def _seconds_of(estimate: dict[str, object]) -> float | None:
    seconds = estimate.get("seconds")
    return float(seconds) if isinstance(seconds, (int, float)) else None


def _forecast(name: str, estimate: dict[str, object], recorded: float, wall: float, history: str) -> list[Figure]:
    seconds = _seconds_of(estimate)
    if seconds is None:
        return [Figure(SECTION, f"{name}: estimate", float("nan"), "s", str(estimate.get("note")), "a figure", False)]
    sites = estimate.get("sites")
    note = sites[0].get("note", "") if isinstance(sites, list) and sites and isinstance(sites[0], dict) else ""
    return [
        Figure(SECTION, f"{name}: estimate (ccops plan)", seconds, "s", str(note)),
        _error(f"{name}: off the run record", seconds, recorded, history),
        _error(f"{name}: off the command's wall time", seconds, wall, history),
    ]


def _against(name: str, ran: list[tuple[dict[str, object], float, float]]) -> list[Figure]:
    """The median error of estimates against their nights, by the run record and by the command's wall time."""
    pairs = [(s, r, w) for e, r, w in ran if (s := _seconds_of(e)) is not None]
    if len(pairs) < 2:  # one night is already printed on its own
        return []
    out = []
    for how, index in (("run record", 1), ("wall time", 2)):
        offs = [100 * abs(p[0] - p[index]) / p[index] for p in pairs]
        anchor = f"each: {', '.join(f'{off:.0f}' for off in offs)} %"
        out.append(Figure(SECTION, f"{name}, {how}", statistics.median(offs), "%", anchor, f"<= {TARGET:.0f} %",
                          statistics.median(offs) <= TARGET))  # fmt: skip
    return out


def _spread(nights: list[float]) -> Figure:
    """The noise floor: how far the same selection's own nights stray from their median, on this machine now.
    No estimate from past nights can come closer to every night than this."""
    middle = statistics.median(nights)
    off = 100 * max(abs(n - middle) for n in nights) / middle
    anchor = f"nights: {', '.join(f'{n:.0f}' for n in nights)} s"
    return Figure(SECTION, "nightly: the same run's own spread off its median", off, "%", anchor)


def _error(name: str, estimate: float, actual: float, history: str) -> Figure:
    off = 100 * abs(estimate - actual) / actual
    signed = "over" if estimate >= actual else "under"
    anchor = f"est {estimate:.0f} s / actual {actual:.0f} s, {signed} ({history})"
    return Figure(SECTION, name, off, "%", anchor, f"<= {TARGET:.0f} %", off <= TARGET)
