"""Run the benchmark sections and print every figure with its anchor and target, in one table."""

from __future__ import annotations

import argparse
import importlib
import tempfile
from pathlib import Path

from benchmarks.figures import HEADER, Bench, machine

SECTIONS = ("cli", "history", "fleet", "capacity", "lab_night")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("sections", nargs="*", help=f"sections to run, of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller histories and fleets (figures not comparable)")
    parser.add_argument("--no-lab", action="store_true", help="skip the sections that need the container lab")
    args = parser.parse_args()
    unknown = sorted(set(args.sections) - set(SECTIONS))
    if unknown:
        parser.error(f"no section {', '.join(unknown)}; sections: {', '.join(SECTIONS)}")
    print(f"machine: {machine()}", flush=True)
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory(prefix="ccops-bench-") as scratch:
        bench = Bench(Path(scratch), quick=args.quick)
        for name in args.sections or SECTIONS:
            module = importlib.import_module(f"benchmarks.{name}")
            if args.no_lab and module.NEEDS_LAB:
                continue
            for figure in module.measure(bench):  # printed as they come: some sections take minutes
                print(figure.line(), flush=True)


if __name__ == "__main__":
    main()
