"""Fleet size: every plan and listing at 32,000 hosts against 3,200, and what one batch's Ansible parses.

The 32,000-host inventory is inventory/example ten times over (each site copied with its own
code, asset tags and addresses); the 3,200-host anchor is the example itself. Both get the same
small software catalogue, and their stores hold an inspection of every Debian host (written
through records.Store), so `plan software apply` compares with real asset records.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.figures import BIN, ROOT, Bench, Figure, timed

SECTION = "fleet"
NEEDS_LAB = False
EXAMPLE = ROOT / "inventory" / "example"
SIZES = (1, 10)  # copies of the example: 3,200 and 32,000 hosts

LISTINGS: tuple[tuple[str, ...], ...] = (
    ("inventory", "validate"),
    ("inventory", "list"),
    ("inventory", "list", "-o", "json"),
    ("plan", "inspect"),
    ("plan", "inspect", "-o", "json"),
    ("plan", "inspect", "-o", "markdown"),
    ("plan", "patch"),
    ("plan", "patch", "-o", "json"),
    ("plan", "rollback"),
    ("plan", "software", "apply"),
    ("plan", "software", "apply", "-o", "json"),
    ("plan", "software", "remove", "softphone"),
    ("plan", "software", "stage"),
    ("plan", "content", "updates"),
    ("plan", "content", "download"),
    ("plan", "content", "seed"),
    ("plan", "decommission"),
    ("plan", "reimage"),  # (plan deploy: the example has no planned machine, and says so)
    ("plan", "comply", "check"),
    ("plan", "comply"),
)

SHA = "ab" * 32
CATALOGUE = f"""\
artefacts: cache
applications:
  softphone:
    health: {{service: softphone, port: 5070}}
    versions:
      "2.0":
        debian12: {{type: deb, package: softphone, version: "2.0", file: softphone_2.0_all.deb, sha256: {SHA}}}
        debian13: {{type: deb, package: softphone, version: "2.0", file: softphone_2.0_all.deb, sha256: {SHA}}}
        win11: {{type: msi, file: softphone-2.0.msi, sha256: {SHA},
                 product_code: "{{12345678-1234-1234-1234-123456789ABC}}", arguments: /qn}}
requirements:
  - {{app: softphone, version: "2.0", os: [debian12, debian13, win11], role: [agent_desktop, supervisor_desktop]}}
"""


def fleet_inventory(dest: Path, copies: int) -> Path:
    """inventory/example ``copies`` times over in ``dest`` (one copy: the example itself)."""
    (dest / "sites").mkdir(parents=True, exist_ok=True)
    (dest / "catalogue").mkdir(exist_ok=True)
    (dest / "ccops.yml").write_text((EXAMPLE / "ccops.yml").read_text())
    (dest / "catalogue" / "apps.yml").write_text(CATALOGUE)
    for site in sorted((EXAMPLE / "sites").glob("*.yml")):
        text, code = site.read_text(), site.stem
        tag = _first(r"asset_tags: ([A-Z]+)-", text)
        octet = int(_first(r"addresses: 10\.(\d+)\.", text))
        for n in range(copies):
            new = code if copies == 1 else f"{code}{n}"
            copy = re.sub(rf"\b{code}", new, text)
            if copies > 1:  # tags and addresses unique across the copies, as validation wants
                copy = copy.replace(f"{tag}-", f"{tag}{n}-").replace(f"10.{octet}.", f"10.{octet + 20 * n}.")
            (dest / "sites" / f"{new}.yml").write_text(copy)
    return dest


def _first(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    if found is None:
        raise ValueError(f"inventory/example no longer matches {pattern!r}")
    return found.group(1)


def asset_record(n: int) -> dict[str, Any]:
    """An inspection in the asset role's shape: 200 packages, a few updates, services and logs."""
    packages = {f"pkg{i:03}": f"1.{i}.{n % 7}-1" for i in range(200)}
    packages["softphone"] = "1.0"
    return {
        "os": {"distribution": "Debian", "version": "12", "variant": "debian12", "kernel": "6.1.0-1"},
        "hardware": {"cpus": 4, "memory_mb": 7987},
        "uptime_seconds": 86400 + n,
        "packages": {"count": len(packages), "items": packages},
        "updates": {
            "pending": 1,
            "security": 1,
            "items": [{"name": "pkg001", "from": "1", "to": "2", "security": True}],
        },
        "disks": [{"mount": "/", "size_mb": 100000, "free_mb": 60000, "used_pct": 40}],
        "services": [{"name": "ssh.service", "state": "running", "status": "enabled"}],
        "logs": [f"line {i}" for i in range(20)],
    }


def in_child(function: str, *args: Path) -> str:
    """``function(*args)`` of this module in a child process: the records and snapshots it builds
    would otherwise be this process's memory, which a child's peak resident figure inherits."""
    code = f"import sys; from benchmarks.fleet import {function}; print({function}(*sys.argv[1:]))"
    argv = [str(BIN / "python"), "-c", code, *map(str, args)]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True, timeout=1800).stdout.strip()


def inspected(home: str, inventory: str) -> int:
    """An inspection of every Debian host saved in ``home``'s store; the number of records."""
    from ccops.inventory.load import load_inventory
    from ccops.store.records import Store

    hosts = [h.name for h in load_inventory(Path(inventory)).hosts.values() if h.os_family == "debian"]
    store = Store(Path(home) / "state" / "ccops.db")
    run_id = "20261201T010000Z-fleet000"
    store.start_run(
        run_id, "inspect", operator="bench", change_id=None, git_commit=None, inventory=str(inventory),
        inventory_sha256="0" * 64, selectors={}, request={}, plan=[],
    )  # fmt: skip
    for start in range(0, len(hosts), 2000):
        chunk = hosts[start : start + 2000]
        store.record_hosts(run_id, [{"host": h, "outcome": "ok", "report": {"outcome": "inspected"}} for h in chunk])
        store.save_assets(run_id, {h: asset_record(i) for i, h in enumerate(chunk, start)})
    store.finish_run(run_id, "succeeded", 0)
    return len(hosts)


RUN_FILE = "inventory.ccops-snapshot.json"
BATCH_FILE = "batch-w1-b1-a1.ccops-snapshot.json"


def snapshots(inventory: str, folder: str, batch: int = 50) -> int:
    """The whole-run snapshot of every host and one batch's part of it, as a run writes them."""
    from ccops.inventory.export import batch_snapshot, snapshot
    from ccops.inventory.load import load_inventory

    model = load_inventory(Path(inventory))
    whole = snapshot(model, list(model.hosts.values()))
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / RUN_FILE).write_text(json.dumps(whole))
    (Path(folder) / BATCH_FILE).write_text(json.dumps(batch_snapshot(whole, list(whole["hosts"])[:batch])))
    return len(whole["hosts"])


def measure(bench: Bench) -> Iterator[Figure]:
    """Figures as they are taken (the 32,000-host runs take minutes)."""
    repeat = 1 if bench.quick else 3
    ccops = str(BIN / "ccops")
    inventories, envs, records = {}, {}, {}
    for copies in SIZES:
        folder = bench.folder(f"fleet-{copies}x")
        inventories[copies] = fleet_inventory(folder / "inv", copies)
        home = folder / "home"
        envs[copies] = {**bench.env, "CCOPS_HOME": str(home)}
        envs[copies].pop("CCOPS_INVENTORY", None)
        records[copies] = int(in_child("inspected", home, inventories[copies]))
    yield Figure(SECTION, "asset records (Debian hosts) @32,000", records[10], "", f"3,200: {records[1]}")
    for args in LISTINGS:
        name = " ".join(args)
        runs = {c: timed([ccops, *args, "-i", str(inventories[c])], repeat=repeat, env=envs[c]) for c in SIZES}
        (small, small_mb), (large, large_mb) = runs[1], runs[10]
        ratio = large / small
        yield from [
            Figure(SECTION, f"{name} @32,000", large, "s", f"3,200: {small:.3f} s, {ratio:.1f}x", "<= 2x, < 1 s",
                   ratio <= 2 and large < 1),
            Figure(SECTION, f"{name} @32,000, peak", large_mb, "MB", f"3,200: {small_mb:.0f} MB"),
        ]  # fmt: skip
    yield _document_size(inventories, envs)
    yield from _batch_parse(bench, inventories, repeat)


def _document_size(inventories: dict[int, Path], envs: dict[int, dict[str, str]]) -> Figure:
    """How much `inventory list -o json` writes: what a site shares is written once, not once per host."""
    sizes = {}
    for copies in SIZES:
        argv = [str(BIN / "ccops"), "inventory", "list", "-o", "json", "-i", str(inventories[copies])]
        out = subprocess.run(argv, cwd=ROOT, env=envs[copies], capture_output=True, check=True, timeout=600).stdout
        sizes[copies] = len(out) / 1e6
    return Figure(SECTION, "inventory list -o json @32,000, document", sizes[10], "MB", f"3,200: {sizes[1]:.1f} MB")


def _batch_parse(bench: Bench, inventories: dict[int, Path], repeat: int) -> list[Figure]:
    """ansible-inventory on one batch's snapshot (what each batch's Ansible parses) against the whole run's."""
    env = {**bench.env, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PYTHONPATH": str(ROOT / "src")}
    env.pop("ANSIBLE_INVENTORY_ENABLED", None)
    figures: list[Figure] = []
    seconds: dict[tuple[int, str], tuple[float, float]] = {}
    for copies in SIZES:
        folder = bench.folder(f"fleet-{copies}x") / "run"
        in_child("snapshots", inventories[copies], folder)
        run_file, batch_file = folder / RUN_FILE, folder / BATCH_FILE
        for kind, path in (("batch", batch_file), ("run", run_file)):
            argv = [str(BIN / "ansible-inventory"), "-i", str(path), "--list"]
            if kind == "batch":  # (the whole run's listing is not read here: its size would be our peak)
                _check(argv, env)
            seconds[copies, kind] = timed(argv, repeat=repeat if kind == "batch" else 1, env=env)
    for copies, label in ((1, "3,200"), (10, "32,000")):
        whole, whole_mb = seconds[copies, "run"]
        mine, mine_mb = seconds[copies, "batch"]
        # the verdict is on the peak: the same 50 hosts' file at both sizes, so its time differs only by noise
        figures += [
            Figure(SECTION, f"a batch's Ansible inventory parse @{label}", mine, "s",
                   f"whole-run snapshot: {whole:.2f} s"),
            Figure(SECTION, f"a batch's Ansible inventory parse @{label}, peak", mine_mb, "MB",
                   f"whole-run snapshot: {whole_mb:.0f} MB", "no growth with the run",
                   None if copies == 1 else mine_mb <= 1.1 * seconds[1, "batch"][1]),
        ]  # fmt: skip
    return figures


def _check(argv: list[str], env: dict[str, str]) -> None:
    """The plugin really read the snapshot (a parse failure would time an empty inventory)."""
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    hostvars = json.loads(proc.stdout or "{}").get("_meta", {}).get("hostvars", {}) if proc.returncode == 0 else {}
    if not hostvars:
        raise RuntimeError(f"ansible-inventory read no hosts from {argv[2]}: {proc.stderr[-500:]}")
