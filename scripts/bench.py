"""Speed figures on the example inventory (about 3,200 hosts), printed side by side.

Run: .venv/bin/python scripts/bench.py [--repeat N]
Targets on a 2-core machine: --help under 150 ms; validate plus plan under
0.5 s; ansible-inventory through the ccops plugin no slower than a static file.
This prints figures; it is a benchmark, not a test, and never fails on them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "inventory" / "example"


def timed(argv: list[str], repeat: int, env: dict) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def static_inventory(folder: Path, env: dict) -> Path:
    """The same hosts, groups and variables as one static YAML inventory file."""
    doc = json.loads(subprocess.run([str(BIN / "ccops"), "inventory", "list", "-i", str(EXAMPLE), "-o", "json"],
                                    cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout)
    hostvars = doc.pop("_meta")["hostvars"]
    doc.pop("all")
    children = {name: {"hosts": dict.fromkeys(body["hosts"])} for name, body in doc.items()}
    children["ccops_all"] = {"hosts": hostvars}
    path = folder / "static.yml"
    path.write_text(yaml.safe_dump({"all": {"children": children}}, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "CCOPS_HOME": tempfile.mkdtemp(prefix="ccops-bench-")}
    ccops = str(BIN / "ccops")
    rows = [
        ("ccops --help", timed([ccops, "--help"], args.repeat * 2, env), 0.150),
        ("ccops inventory validate (3,200 hosts)", timed([ccops, "inventory", "validate", "-i", str(EXAMPLE)],
                                                         args.repeat, env), None),
        ("ccops plan inspect -o json (3,200 hosts)", timed([ccops, "plan", "inspect", "-i", str(EXAMPLE), "-o", "json"],
                                                           args.repeat, env), None),
    ]
    rows.append(("validate + plan", rows[1][1] + rows[2][1], 0.5))
    with tempfile.TemporaryDirectory() as tmp:
        static = static_inventory(Path(tmp), env)
        inventory = str(BIN / "ansible-inventory")
        repeat = max(1, args.repeat // 2)
        plugin = timed([inventory, "-i", str(EXAMPLE), "--list"], repeat, env)
        plain = timed([inventory, "-i", str(static), "--list"], repeat, env)
    rows += [("ansible-inventory --list, ccops plugin", plugin, plain),
             ("ansible-inventory --list, static YAML file", plain, None)]
    print(f"{'measure':<46}{'median':>10}  target")
    for name, seconds, target in rows:
        verdict = "" if target is None else f"<= {target * 1000:.0f} ms " + ("met" if seconds <= target else "MISSED")
        print(f"{name:<46}{seconds * 1000:>8.0f} ms  {verdict}")


if __name__ == "__main__":
    main()
