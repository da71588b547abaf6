"""What a benchmark section hands back: figures, each with its anchor and target, and shared helpers."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class Figure:
    """One measured figure. ``anchor`` is what it is compared with (the plain tool, the smaller fleet,
    the figure before the change); ``target`` says what "met" means, checked by ``met``."""

    section: str
    name: str
    value: float
    unit: str  # "s", "MB", "x" (a ratio), "GB", "%"
    anchor: str = ""
    target: str = ""
    met: bool | None = None  # None: no target, only a figure

    def line(self) -> str:
        """One row of the table under HEADER."""
        verdict = "" if self.met is None else ("met" if self.met else "MISSED")
        value = f"{self.value:,.3f}" if self.value < 100 else f"{self.value:,.0f}"
        head = f"{self.section:<9} {self.name:<52} {value:>11} {self.unit:<3}"
        return f"{head} {self.anchor:<34} {self.target:<16} {verdict}"


HEADER = f"{'section':<9} {'figure':<52} {'value':>11} {'':<3} {'anchor':<34} {'target':<16} verdict"


@dataclass
class Bench:
    """Shared between sections: a private scratch folder and the command-line knobs."""

    scratch: Path
    quick: bool = False  # smaller histories and fleets, for a fast look (figures marked as such)
    env: dict[str, str] = field(default_factory=lambda: installed_env(os.environ))

    def folder(self, name: str) -> Path:
        path = self.scratch / name
        path.mkdir(parents=True, exist_ok=True)
        return path


def installed_env(environ: os._Environ[str] | dict[str, str]) -> dict[str, str]:
    """The commands timed as an installed ccops runs: from its compiled bytecode (pip compiles a package on
    install; a shell that sets PYTHONDONTWRITEBYTECODE would otherwise time every module's compile)."""
    import compileall

    compileall.compile_dir(ROOT / "src", quiet=1)
    return {k: v for k, v in environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: list[str], repeat: int = 3, env: dict[str, str] | None = None, cwd: Path = ROOT) -> tuple[float, float]:
    """Median wall seconds and the largest peak resident MB of ``argv`` run ``repeat`` times (each must exit 0)."""
    samples, peaks = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest child's so far
        samples.append(time.perf_counter() - start)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            raise subprocess.CalledProcessError(child.returncode, argv)
        peaks.append(usage.ru_maxrss / 1024)
    return statistics.median(samples), max(peaks)


def machine() -> str:
    """The machine the figures were taken on, for the docs that record them."""
    cpus = os.cpu_count() or 0
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0.0
    return f"{cpus} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"
