"""How long ``ccops --help`` takes to answer: the start-up cost every command pays."""

from __future__ import annotations

from benchmarks.figures import BIN, Bench, Figure, timed

SECTION = "cli"
NEEDS_LAB = False
TARGET = 0.060


def measure(bench: Bench) -> list[Figure]:
    env = {**bench.env, "CCOPS_HOME": str(bench.folder("cli-home"))}
    seconds, peak = timed([str(BIN / "ccops"), "--help"], repeat=5 if bench.quick else 15, env=env)
    python, _ = timed([str(BIN / "python"), "-c", "pass"], repeat=5 if bench.quick else 15, env=env)
    return [
        Figure(SECTION, "ccops --help", seconds, "s", f"python -c pass: {python:.3f} s", "< 0.060 s", seconds < TARGET),
        Figure(SECTION, "ccops --help, peak resident", peak, "MB"),
    ]
