"""A year of nightly inspections of the 3,200-host example, written through the store's own API.

Each night is an inspect run as ``ccops inspect`` records it (start_run, record_hosts with the
asset report as each host's report, save_assets, finish_run) with reports in the asset role's
shape (150-2,000 packages with versions, pending updates with security items, key services,
disks, 100 journal lines; ~34 KB of JSON a host). What changes a night: every host's log lines
and uptime, its disks' free space; the packages of ~3 % of hosts (30 % on the weekly patch
night, with their updates); a comply run each week. Figures: the store's size, the time to save
a night, and the fleet views run as ``ccops`` commands on the store the year left.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.figures import BIN, ROOT, Bench, Figure

SECTION = "history"
NEEDS_LAB = False
EXAMPLE = ROOT / "inventory" / "example"
MARKS = (1, 30, 90, 365)
ANCHOR_GB = {1: 0.26, 30: 4.2, 90: 11.9, 365: 44.0}  # issue 25, measured before the change
ANCHOR_SAVE = {1: "8.2 s", 30: "9.3 s", 90: "12.4 s", 365: "13-25 s"}
BATCH = 400  # hosts recorded per write, as a run's batches are
UNITS = ("sshd", "cron", "systemd", "kernel", "NetworkManager", "chrony", "rsyslogd", "softphone", "agentd")
MESSAGES = (
    "session opened for user agent{n} by (uid=0)",
    "pam_unix(cron:session): session closed for user root",
    "Started Daily apt download activities (pid {n}).",
    "eth0: link becomes ready; carrier lost after {n} ms",
    "Selected source 10.{n}.0.1 (ntp); offset +{n} us",
    "softphone[{n}]: registration refreshed, expires in {n} s",
    "warning: disk /var {n}% used by journal files",
    'audit: type=1400 apparmor="ALLOWED" operation="open" pid={n}',
)
SERVICES = ("ssh", "cron", "rsyslog", "chrony", "agentd", "softphone", "cups", "NetworkManager", "auditd", "nftables")
PREFIXES = ("lib", "python3-", "fonts-", "x11-", "gir1.2-", "node-", "perl-", "ruby-", "golang-", "")


class Fleet:
    """Every host's current report; a night changes what a night changes, in place."""

    def __init__(self, hosts: list[str], seed: int = 25) -> None:
        self.rng = random.Random(seed)  # noqa: S311 (made-up history, the same every run)
        rng = self.rng
        self.pool = [
            (
                f"{PREFIXES[i % len(PREFIXES)]}pkg{i:04d}",
                f"{rng.randint(0, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}-{rng.randint(1, 5)}",
            )
            for i in range(3000)
        ]
        self.hosts: dict[str, dict[str, Any]] = {h: self._new(h) for h in hosts}

    def _new(self, host: str) -> dict[str, Any]:
        rng = self.rng
        chosen = sorted(rng.sample(range(len(self.pool)), rng.randint(150, 2000)))
        items = {self.pool[i][0]: self.pool[i][1] for i in chosen}
        return {
            "outcome": "inspected",
            "reason": "",
            "os": {
                "variant": "debian12",
                "family": "debian",
                "distribution": "Debian",
                "version": "12.8",
                "codename": "bookworm",
                "kernel": "6.1.0-27-amd64",
            },
            "hardware": {
                "vendor": "Dell Inc.",
                "product": "OptiPlex 7010",
                "cpus": 4,
                "memory_mb": 7812,
                "virtualization": "",
            },
            "uptime_seconds": rng.randint(3600, 40 * 86400),
            "packages": {"count": len(items), "items": items},
            "updates": self._updates(items),
            "disks": [
                {"mount": "/", "size_mb": 60000, "free_mb": rng.randint(9000, 40000), "used_pct": 0},
                {"mount": "/var", "size_mb": 20000, "free_mb": rng.randint(4000, 15000), "used_pct": 0},
            ],
            "services": [
                {"name": f"{s}.service", "state": "running", "status": "enabled", "source": "systemd"} for s in SERVICES
            ],
            "logs": [],
            "image": {},
            "collected_at": "",
        }

    def _updates(self, items: dict[str, str]) -> dict[str, Any]:
        rng = self.rng
        names = rng.sample(sorted(items), min(len(items), rng.randint(0, 25)))
        pending = [
            {
                "name": n,
                "from": items[n],
                "to": items[n] + "+deb12u1",
                "origin": "Debian-Security:12/stable-security",
                "security": rng.random() < 0.3,
            }
            for n in sorted(names)
        ]
        security = sum(1 for p in pending if p["security"])
        return {"pending": len(pending), "security": security, "items": pending, "lists_refreshed": True}

    def night(self, day: int, at: datetime) -> dict[str, dict[str, Any]]:
        rng = self.rng
        patch_night = day % 7 == 3
        for name, report in self.hosts.items():
            report["uptime_seconds"] += 86400
            if rng.random() < (0.30 if patch_night else 0.03):
                items = dict(report["packages"]["items"])
                for package in rng.sample(sorted(items), min(len(items), rng.randint(1, 20))):
                    items[package] = items[package] + f"+u{day}"
                report["packages"] = {"count": len(items), "items": items}
                report["updates"] = self._updates(items)
                if patch_night:
                    report["uptime_seconds"] = rng.randint(60, 3600)
            for disk in report["disks"]:
                disk["free_mb"] = max(100, disk["free_mb"] - rng.randint(0, 60))
                disk["used_pct"] = round(100 * (disk["size_mb"] - disk["free_mb"]) / disk["size_mb"], 1)
            if rng.random() < 0.002:
                report["services"][rng.randrange(len(SERVICES))]["state"] = "failed"
            stamp = at.strftime("%b %d %H:%M:%S")
            report["logs"] = [
                f"{stamp} {name} {rng.choice(UNITS)}[{rng.randint(100, 99999)}]: "
                + rng.choice(MESSAGES).format(n=rng.randint(1, 65535))
                for _ in range(100)
            ]
            report["collected_at"] = at.isoformat(timespec="seconds")
        return self.hosts


def _start(store: Any, run_id: str, verb: str) -> None:
    store.start_run(
        run_id,
        verb,
        operator="bench",
        change_id=None,
        git_commit=None,
        inventory=str(EXAMPLE),
        inventory_sha256="0" * 64,
        selectors={},
        request={},
        plan=[],
    )


def _inspect_night(store: Any, run_id: str, reports: dict[str, dict[str, Any]]) -> None:
    _start(store, run_id, "inspect")
    names = list(reports)
    for first in range(0, len(names), BATCH):
        batch = {h: reports[h] for h in names[first : first + BATCH]}
        store.save_assets(run_id, batch)  # as the run loop does: a batch's records, then its results
        store.record_hosts(run_id, [{"host": h, "outcome": "ok", "wave": "1", "report": r} for h, r in batch.items()])
    store.finish_run(run_id, "succeeded", 0)


def _comply(store: Any, run_id: str, hosts: list[str], rng: random.Random) -> None:
    _start(store, run_id, "comply-check")
    rows = []
    for h in hosts:
        deviations = [{"policy": "usb_storage", "detail": "loadable"}] if rng.random() < 0.05 else []
        rows.append(
            {
                "host": h,
                "outcome": "failed" if deviations else "ok",
                "report": {"outcome": "checked", "reason": "", "deviations": deviations},
            }
        )
    for first in range(0, len(rows), BATCH):
        store.record_hosts(run_id, rows[first : first + BATCH])
    store.finish_run(run_id, "succeeded", 0)


def _size_gb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file()) / 1e9


BOUNDED = ("asset_versions", "sqlite_autoindex_asset_versions_1", "asset_versions_by_time")  # summaries: 90 days


def _bounded_gb(path: Path) -> float:
    """Bytes in the tables retention bounds by days (asset_history.SUMMARY_DAYS): flat once they are full."""
    import sqlite3
    from contextlib import closing

    marks = ",".join("?" * len(BOUNDED))
    with closing(sqlite3.connect(path)) as db:
        try:
            row = db.execute(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({marks})", BOUNDED).fetchone()  # noqa: S608
        except sqlite3.Error:  # a SQLite without dbstat: everything counts as growing
            return 0.0
    return float(row[0] or 0) / 1e9


NIGHTS_LOG = "nights.jsonl"  # in the history's home: one line a night (save wall and CPU seconds, sizes)


def generate(home: Path, hosts: list[str], nights: int, on_mark: Any) -> dict[int, float]:
    """Write ``nights`` nights of history into ``home``; the save time of each night is returned (and logged
    in ``home``/NIGHTS_LOG as each night ends, so a long history can be read while it is written or later)."""
    from ccops.store import records
    from ccops.store.records import Store

    store = Store(home / "ccops.db")
    fleet = Fleet(hosts)
    start = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0) - timedelta(days=nights)
    saves: dict[int, float] = {}
    saved_now = records.now
    try:
        for day in range(1, nights + 1):
            at = start + timedelta(days=day)
            records.now = lambda at=at: at.isoformat(timespec="seconds")
            reports = fleet.night(day, at)
            run_id = f"{at:%Y%m%dT%H%M%SZ}-{day:06x}"
            began, cpu = time.perf_counter(), time.process_time()
            _inspect_night(store, run_id, reports)
            saves[day] = time.perf_counter() - began
            _log_night(home, day, saves[day], time.process_time() - cpu)
            if day % 7 == 5:
                later = at + timedelta(hours=1)
                records.now = lambda later=later: later.isoformat(timespec="seconds")
                _comply(store, f"{later:%Y%m%dT%H%M%SZ}-c{day:05x}", hosts, fleet.rng)
            if day % 10 == 0 or day == nights:
                print(f"history: night {day}/{nights}, saved in {saves[day]:.2f} s", file=sys.stderr, flush=True)
            on_mark(day, store)
    finally:
        records.now = saved_now
    return saves


def _log_night(home: Path, day: int, wall: float, cpu: float) -> None:
    path = home / "ccops.db"
    line = {"night": day, "save_s": round(wall, 3), "save_cpu_s": round(cpu, 3)}
    line |= {"gb": round(_size_gb(path), 4), "bounded_gb": round(_bounded_gb(path), 4)}
    with (home / NIGHTS_LOG).open("a") as log:
        log.write(json.dumps(line) + "\n")


def read_nights(home: Path) -> tuple[dict[int, float], dict[int, float], dict[int, float], dict[int, float]]:
    """A written history's log: per night its save wall and CPU seconds, its size and its bounded tables' size."""
    saves: dict[int, float] = {}
    cpus: dict[int, float] = {}
    sizes: dict[int, float] = {}
    bounded: dict[int, float] = {}
    for text in (home / NIGHTS_LOG).read_text().splitlines():
        line = json.loads(text)
        if "night" in line:
            day = int(line["night"])
            saves[day], cpus[day] = float(line["save_s"]), float(line.get("save_cpu_s", 0.0))
            sizes[day], bounded[day] = float(line["gb"]), float(line["bounded_gb"])
    return saves, cpus, sizes, bounded


def _generate(home: Path, hosts: list[str], nights: int) -> None:
    """generate(), leaving the checkpoint a nightly ``runs verify`` would have left (runs in a child process)."""

    def on_mark(day: int, store: Any) -> None:
        if day == nights - 1:
            store.verify_chain(full=True)

    generate(home, hosts, nights, on_mark)


def year_gb(nights: int, sizes: dict[int, float], bounded: dict[int, float]) -> float:
    """A year's store from the last week measured: what grows for ever at its rate to night 365, the summaries
    (kept SUMMARY_DAYS) at theirs only until they reach their retention."""
    from ccops.store.asset_history import SUMMARY_DAYS

    week = (sizes[nights] - sizes[nights - 7]) / 7
    week_bounded = max(0.0, (bounded[nights] - bounded[nights - 7]) / 7)
    return sizes[nights] + (week - week_bounded) * (365 - nights) + week_bounded * max(0, SUMMARY_DAYS - nights)


def _nights(bench: Bench) -> int:
    """365 (40 with --quick); CCOPS_BENCH_HISTORY_NIGHTS sets fewer for a shorter look at full scale."""
    raw = os.environ.get("CCOPS_BENCH_HISTORY_NIGHTS", "")
    return int(raw) if raw.isdigit() and int(raw) >= 2 else (40 if bench.quick else 365)


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user and system: what load on the machine does not inflate) and peak
    resident MB of one run of ``argv`` (which must exit 0)."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), argv)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _history(bench: Bench, hosts: list[str]) -> tuple[Path, int]:
    """The history the views run on: CCOPS_BENCH_HISTORY_HOME's, written before (by this section, its
    NIGHTS_LOG beside it), or a new one written now in a child (ccops's commands are then timed from a
    parent that never held a year of reports: a forked child's peak resident size starts at its parent's)."""
    given = os.environ.get("CCOPS_BENCH_HISTORY_HOME", "")
    if given:
        home = Path(given)
        return home, max(read_nights(home)[0])
    nights = _nights(bench)
    home = bench.folder("history-home")
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        pool.submit(_generate, home, hosts, nights).result()
    return home, nights


def measure(bench: Bench) -> list[Figure]:
    from ccops.inventory.load import check_inventory
    from ccops.store.asset_history import keep_versions

    model, _ = check_inventory(EXAMPLE)
    assert model is not None  # noqa: S101 (the repository's own example)
    hosts = list(model.hosts)[: 300 if bench.quick else None]
    home, nights = _history(bench, hosts)
    saves, cpus, sizes, bounded = read_nights(home)
    scale = f"{len(hosts)} hosts" + (" (quick)" if bench.quick else "")
    figures: list[Figure] = []
    marks = [m for m in MARKS if m < nights] + [nights]
    for day in marks:
        anchor = f"today: {ANCHOR_GB[day]} GB" if day in ANCHOR_GB and not bench.quick else ""
        met = sizes[day] < 1.0 if day == 365 else None
        figures.append(
            Figure(SECTION, f"store on disk, {day} night(s), {scale}", sizes[day], "GB", anchor,
                   "< 1 GB a year" if met is not None else "", met)
        )  # fmt: skip
    # the year from the growth of the last week measured (see year_gb), once that week is past the nights
    # kept whole (before, a night adds a whole record a host that a later night gives back)
    if keep_versions() + 7 <= nights < 365:
        year = year_gb(nights, sizes, bounded)
        figures.append(
            Figure(SECTION, f"store on disk, a year (extrapolated from night {nights}'s growth)", year, "GB",
                   "today: ~44 GB", "< 1 GB a year", year < 1.0 if not bench.quick else None)
        )  # fmt: skip
    first = saves[1]
    curve = sorted({*marks, *range(30, nights + 1, 30)})
    for day in curve:
        window = list(range(max(1, day - 2), day + 1))
        value = sum(saves[d] for d in window) / len(window)
        cpu = sum(cpus[d] for d in window) / len(window)
        anchor = f"today: {ANCHOR_SAVE[day]}" if day in ANCHOR_SAVE and not bench.quick else ""
        met = value < 2 * max(first, 0.5) if day > 1 else None
        figures.append(
            Figure(SECTION, f"saving one night, at {day} night(s) (CPU {cpu:.1f} s)", value, "s", anchor,
                   "flat (< 2x night 1)" if met is not None else "", met)
        )  # fmt: skip
    figures += _views(bench, home, hosts, nights)
    return figures


def _views(bench: Bench, home: Path, hosts: list[str], nights: int) -> list[Figure]:
    """The fleet views as ``ccops`` commands on the history: wall and CPU seconds, peak resident."""
    env = {**bench.env, "CCOPS_HOME": str(home)}
    ccops = str(BIN / "ccops")
    inv = ["-i", str(EXAMPLE)]
    out = bench.folder("history-out")
    some = hosts[len(hosts) // 2]
    commands = [
        ("ccops risks", ["risks", *inv]),
        ("ccops report -o html", ["report", *inv, "-o", "html", "--to", str(out / "r.html")]),
        ("ccops report -o json", ["report", *inv, "-o", "json", "--to", str(out / "r.json")]),
        ("ccops report -o csv", ["report", *inv, "-o", "csv", "--to", str(out / "r.csv")]),
        ("ccops host show", ["host", "show", some, *inv]),
        ("ccops host diff", ["host", "diff", some]),
        ("ccops runs list", ["runs", "list"]),
        ("ccops runs verify (since the checkpoint)", ["runs", "verify"]),
    ]
    figures = []
    for name, args in commands:
        wall, cpu, peak = _timed([ccops, *args], env)
        anchor = "today: MemoryError from 30 nights" if "risks" in name or "report" in name else ""
        anchor = "today: 0.6-170 s (all rows)" if "verify" in name else anchor
        figures.append(Figure(SECTION, f"{name}, {nights} nights (CPU {cpu:.2f} s)", wall, "s", anchor, "< 2 s",
                              wall < 2))  # fmt: skip
        figures.append(Figure(SECTION, f"{name}, peak resident", peak, "MB", "", "< 300 MB", peak < 300))
    wall, cpu, peak = _timed([ccops, "runs", "verify", "--full"], env)
    figures.append(Figure(SECTION, f"ccops runs verify --full (CPU {cpu:.1f} s)", wall, "s", "today: ~170 s a year"))
    figures.append(Figure(SECTION, "ccops runs verify --full, peak resident", peak, "MB"))
    return figures
