"""How long a planned run will take, learnt from the same verb's past runs at each site.

A batch costs a fixed part (Ansible starting, gates and records between batches), a part per
host, and, where the history shows it, a part that grows with how many hosts run at once: on a
small controller the hosts of one batch contend for its CPU, so a batch's time grows faster than
its size. The model's variable is that concurrency, min(hosts, forks):

    seconds(n) = fixed + n * (per_host + contention * min(n, forks, reach))

fitted per site from the batches of the newest past runs of the verb (medians per batch size, so
one slow night does not move the estimate), all three parts never negative:
- one size seen: the wait before the first host answered is the fixed part, the rest is per host
  (nothing says how the time bends);
- two sizes or more: the line through them, unless that line starts below the measured fixed part
  (the wait before the first host): then the history bends, and the curve from that fixed part
  through them is fitted (least squares; the fixed part measured, not fitted, because a free
  three-part fit through a few noisy sizes swings far where it extrapolates).
Past the largest concurrency seen the contention is followed to ``STRETCH`` times it, then held
(``reach``): beyond what was seen time grows linearly, never with a wild square. With no past run
nothing is estimated: the answer says so. Each estimate says how many runs and which batch sizes
it rests on, and when it reaches past the largest batch seen.
Gates add no waits today: the time between batches is already in each batch.

The store is read with SQL on the run and host-result columns (runs: started, ended, verb, plan,
request's forks; host_results: started, ended), a few hosts per past batch, so the cost grows
neither with the store's age nor much with the fleet.
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ccops.runner.curve import nonnegative_fit
from ccops.verbs import SELECT_WAVE

if TYPE_CHECKING:
    from ccops.inventory.model import Inventory
    from ccops.plan.build import Plan, Wave
    from ccops.store.records import Store

RECENT_RUNS = 10  # newest runs of the verb read from the store
PER_SITE = 5  # of those, the newest that ran the site: the medians are over these
PROBES = 3  # hosts of a past batch whose times are read: they share its end, the first of them starts it
FEW = 3  # fewer runs than this: the estimate says it is rough
DEFAULT_FORKS = 25  # a run's forks unless told (RunRequest's default; `ccops plan` takes none)
STRETCH = 2  # the contention is followed to this many times the largest concurrency seen, then held

PlannedBatch = tuple[str, int]  # (site, hosts)


@dataclass(frozen=True)
class Sample:
    """One past batch: how many hosts, how long, how long before its first host answered, the run's forks."""

    run: int  # 0 = the newest run read
    hosts: int
    seconds: float
    lead: float
    forks: int = DEFAULT_FORKS

    @property
    def concurrency(self) -> int:
        return max(min(self.hosts, self.forks), 1)


@dataclass(frozen=True)
class SiteModel:
    fixed: float  # seconds per batch whatever its size
    per_host: float  # seconds each host adds on its own
    runs: int  # past runs it rests on
    sizes: tuple[int, ...]  # the batch sizes seen in them
    contention: float = 0.0  # seconds each host adds for each host running at once with it (0: linear)
    largest: int = 0  # the largest concurrency seen (0: no bound)
    shape: str = "linear"  # how the history was read: "one size", "linear" or "convex"

    @property
    def reach(self) -> int:
        """Past this many hosts at once the contention is held, not followed (0: never held)."""
        return STRETCH * self.largest if self.contention > 0 else 0

    def at_once(self, hosts: int, forks: int = DEFAULT_FORKS) -> int:
        """How many of a batch's hosts the model lets slow each other down."""
        return min(hosts, max(forks, 1), self.reach or hosts)

    def seconds(self, hosts: int, forks: int = DEFAULT_FORKS) -> float:
        return self.fixed + hosts * (self.per_host + self.contention * self.at_once(hosts, forks))

    def beyond(self, hosts: int, forks: int = DEFAULT_FORKS) -> bool:
        """A batch of this size runs more hosts at once than any batch the model rests on."""
        return min(hosts, max(forks, 1)) > self.largest > 0

    def held(self, hosts: int, forks: int = DEFAULT_FORKS) -> bool:
        return self.at_once(hosts, forks) < min(hosts, max(forks, 1))


@dataclass
class Model:
    verb: str
    sites: dict[str, SiteModel] = field(default_factory=dict)
    tail: float = 0.0  # a run's end after its last batch (records, rotation)


@dataclass
class SiteEstimate:
    site: str
    batches: int
    hosts: int
    seconds: float | None  # None: no past run of the verb at this site
    runs: int
    sizes: tuple[int, ...]
    shape: str = ""  # how the site's history was read (SiteModel.shape)
    largest: int = 0  # the most hosts at once in the batches it rests on
    beyond: bool = False  # a planned batch runs more hosts at once than that
    held: int = 0  # the slow-down between hosts was held at this many at once (0: not held)

    def note(self, verb: str) -> str:
        if self.seconds is None:
            return f"no past {verb} runs at this site to estimate from"
        text = f"{rests_on(verb, self.runs)}, batches of {', '.join(map(str, self.sizes))} host(s)"
        if self.shape == "convex":
            text += "; a batch's hosts slow each other (time grows faster than its size)"
        if self.beyond:
            text += f"; extrapolates past the largest batch seen ({self.largest} host(s) at once)"
        if self.held:
            text += f", the slow-down held at {self.held} at once"
        return text

    def as_dict(self, verb: str) -> dict[str, Any]:
        return {
            "site": self.site,
            "batches": self.batches,
            "hosts": self.hosts,
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "runs": self.runs,
            "batch_sizes_seen": list(self.sizes),
            "model": self.shape or None,
            "extrapolates": self.beyond,
            "note": self.note(verb),
        }


@dataclass
class Estimate:
    verb: str
    sites: list[SiteEstimate]
    seconds: float | None  # the whole run; None unless every site has past runs
    runs: int  # past runs the weakest site's part rests on

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": None if self.seconds is None else round(self.seconds, 1),
            "runs": self.runs,
            "note": self.summary(),
            "sites": [s.as_dict(self.verb) for s in self.sites],
        }

    def summary(self) -> str:
        if all(s.seconds is None for s in self.sites):
            return f"no past {self.verb} runs to estimate from"
        if self.seconds is None:
            missing = [s.site for s in self.sites if s.seconds is None]
            return f"no total: no past {self.verb} runs at {', '.join(missing)} to estimate from"
        return f"about {duration(self.seconds)} in total, {rests_on(self.verb, self.runs)}"


def duration(seconds: float) -> str:
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def rests_on(verb: str, runs: int) -> str:
    few = " (few: a rough figure)" if runs < FEW else ""
    return f"from the {runs} most recent past {verb} run(s){few}"


# -- learning from the store ---------------------------------------------------------------------


def learn(store: Store, verb: str) -> Model:
    return store.db.read(lambda db: read_model(db, verb))


def read_model(db: sqlite3.Connection, verb: str) -> Model:
    runs = db.execute(
        "SELECT id, started, ended, CASE WHEN json_valid(plan) THEN"
        " COALESCE(json_extract(plan, '$.waves'), CASE WHEN json_type(plan) = 'array' THEN plan END) END,"
        " CASE WHEN json_valid(request) THEN json_extract(request, '$.forks') END"
        " FROM runs WHERE verb = ? AND ended IS NOT NULL ORDER BY started DESC, id DESC LIMIT ?",
        (verb, RECENT_RUNS),
    ).fetchall()
    samples: dict[str, list[Sample]] = {}
    tails: list[float] = []
    for rank, (run_id, started, ended, waves, forks) in enumerate(runs):
        batches = _batches(waves)
        times = _host_times(db, run_id, [h for _, _, probes in batches for h in probes])
        run = (rank, _forks(forks), _time(started), _time(ended))
        tail = _run_samples(run, batches, times, samples)
        if tail is not None:
            tails.append(tail)
    return Model(verb, {site: fit(s) for site, s in samples.items()}, tail=_median(tails[:PER_SITE]))


def _batches(waves_json: Any) -> list[tuple[str, int, list[str]]]:
    """(site, hosts, the first few hosts) of each batch of a run record's waves; what does not fit is skipped."""
    try:
        waves = json.loads(waves_json) if isinstance(waves_json, str) else []
    except (ValueError, RecursionError):
        return []
    out = []
    for wave in waves if isinstance(waves, list) else []:
        batches = wave.get("batches") if isinstance(wave, dict) else None
        for batch in batches if isinstance(batches, list) else []:
            if isinstance(batch, dict) and isinstance(batch.get("site"), str) and isinstance(batch.get("hosts"), list):
                probes = [h for h in batch["hosts"][:PROBES] if isinstance(h, str)]
                out.append((batch["site"], len(batch["hosts"]), probes))
    return out


def _host_times(db: sqlite3.Connection, run_id: str, hosts: list[str]) -> dict[str, tuple[float, float]]:
    """host -> (its first event, its batch's end) for the hosts of the run that have both."""
    out = {}
    for i in range(0, len(hosts), 500):
        chunk = hosts[i : i + 500]
        query = (
            f"SELECT host, started, ended FROM host_results WHERE run_id = ? AND host IN ({','.join('?' * len(chunk))})"  # noqa: S608 (only ?s)
            " AND wave IS NOT ?"  # a host a select pass found with nothing to do ran in no batch
        )
        for host, started, ended in db.execute(query, (run_id, *chunk, SELECT_WAVE)):
            first, end = _time(started), _time(ended)
            if first is not None and end is not None:
                out[host] = (first, end)
    return out


def _forks(value: Any) -> int:
    """A past run's forks as its request recorded them; anything else (older records, damage): the default."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else DEFAULT_FORKS


def _run_samples(
    run: tuple[int, int, float | None, float | None],
    batches: list[tuple[str, int, list[str]]],
    times: dict[str, tuple[float, float]],
    out: dict[str, list[Sample]],
) -> float | None:
    """Add one past run's batches to ``out`` per site; its tail after the last batch, or None.

    ``run`` is (its rank, newest first; its forks; its start; its end)."""
    rank, forks, run_start, run_end = run
    timed = []
    for site, hosts, probes in batches:
        seen = [times[h] for h in probes if h in times]
        if seen:  # a batch's hosts share its end time; the first event of any of them starts its work
            timed.append((site, hosts, min(f for f, _ in seen), max(e for _, e in seen)))
    ends = sorted(end for *_, end in timed)
    if run_start is None or not ends:
        return None
    for site, hosts, first, end in timed:
        # a batch starts when the batch before it ended (or the run started)
        begin = max([run_start, *(e for e in ends if e <= first and e != end)])
        out.setdefault(site, []).append(Sample(rank, hosts, max(end - begin, 0.0), max(first - begin, 0.0), forks))
    return None if run_end is None else max(run_end - ends[-1], 0.0)


def _time(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp() if isinstance(text, str) else None
    except ValueError:
        return None


def fit(samples: list[Sample]) -> SiteModel:
    """The parts through the median duration of each batch size seen in the site's newest runs."""
    runs = sorted({s.run for s in samples})[:PER_SITE]
    recent = [s for s in samples if s.run in runs]
    by_size: dict[tuple[int, int], list[float]] = {}
    for s in recent:
        by_size.setdefault((s.hosts, s.concurrency), []).append(s.seconds)
    points = sorted((n, at_once, statistics.median(d)) for (n, at_once), d in by_size.items())
    sizes = tuple(sorted({n for n, _, _ in points}))
    largest = max(at_once for _, at_once, _ in points)
    # the wait before a batch's first host answered: Ansible starting, before any host's work
    lead = min(_median([s.lead for s in recent]), *(d for *_, d in points))
    if len(points) == 1:
        # one batch size: nothing says how the time bends; the rest of the batch grows with its hosts
        n, _, seconds = points[0]
        return SiteModel(lead, (seconds - lead) / max(n, 1), len(runs), sizes, 0.0, largest, "one size")
    fixed, per_host, contention = line_or_curve(
        [(float(n), float(n * at_once)) for n, at_once, _ in points], [d for *_, d in points], lead
    )
    shape = "convex" if contention > 0 else "linear"
    return SiteModel(fixed, per_host, len(runs), sizes, contention, largest, shape)


def line_or_curve(sizes: list[tuple[float, float]], durations: list[float], lead: float) -> tuple[float, ...]:
    """(fixed, per host, contention) through (hosts, hosts x hosts at once) -> seconds, all parts >= 0.

    The straight line through the sizes seen (least squares), unless it starts below the measured fixed
    part (the wait before the first host): then the time bends upward, and the curve from that wait is
    fitted through them. The fixed part is measured, not fitted, so a bend rests on two fitted parts: a
    free three-part fit through three noisy sizes swings far more where it extrapolates."""
    fixed, per_host = nonnegative_fit([(1.0, n) for n, _ in sizes], durations)
    if fixed >= lead:
        return fixed, per_host, 0.0
    per_host, contention = nonnegative_fit(sizes, [d - lead for d in durations])
    return lead, per_host, contention


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


# -- estimating a plan ---------------------------------------------------------------------------


def planned_batches(waves: Iterable[Wave], done: Iterable[str] = ()) -> list[list[PlannedBatch]]:
    """Per wave, (site, hosts still to run) of each batch; hosts already done (a resume) are left out."""
    finished = set(done)
    return [[(b.site, sum(h.name not in finished for h in b.hosts)) for b in w.batches] for w in waves]


def side_by_side(inventory: Inventory) -> set[str]:
    """Sites whose batches run beside the others' (each through its own execution node)."""
    if os.environ.get("CCOPS_NODES") == "off":
        return set()
    return {code for code, site in inventory.sites.items() if site.node}


def estimate(model: Model, waves: list[list[PlannedBatch]], beside: set[str], forks: int = DEFAULT_FORKS) -> Estimate:
    per_site: dict[str, SiteEstimate] = {}
    for wave in waves:
        for site, hosts in wave:
            if hosts == 0:
                continue
            learnt = model.sites.get(site)
            if site not in per_site:
                known = (0.0, learnt.runs, learnt.sizes, learnt.shape, learnt.largest) if learnt else (None, 0, ())
                per_site[site] = SiteEstimate(site, 0, 0, *known)
            entry = per_site[site]
            entry.batches += 1
            entry.hosts += hosts
            if learnt is not None and entry.seconds is not None:
                entry.seconds += learnt.seconds(hosts, forks)
                entry.beyond = entry.beyond or learnt.beyond(hosts, forks)
                if learnt.held(hosts, forks):
                    entry.held = learnt.reach
    # the figure is as good as its weakest site: the fewest runs any site's part rests on
    runs = min((s.runs for s in per_site.values() if s.seconds is not None), default=0)
    total = None
    if runs and all(s.seconds is not None for s in per_site.values()):

        def cost(i: int, j: int, site: str, hosts: int) -> float:
            return model.sites[site].seconds(hosts, forks)

        total = run_seconds(waves, cost, beside) + model.tail
    return Estimate(model.verb, list(per_site.values()), total, runs)


def run_seconds(
    waves: list[list[PlannedBatch]], cost: Callable[[int, int, str, int], float], beside: set[str]
) -> float:
    """Waves one after another; in a wave, each side-by-side site is a lane, the other sites share one."""
    total = 0.0
    for i, wave in enumerate(waves):
        lanes: dict[str, float] = {}
        for j, (site, hosts) in enumerate(wave):
            if hosts:
                lane = site if site in beside else ""
                lanes[lane] = lanes.get(lane, 0.0) + cost(i, j, site, hosts)
        total += max(lanes.values(), default=0.0)
    return total


_ESTIMATES: dict[int, Estimate] = {}


def plan_estimate(plan: Plan) -> Estimate:
    """The estimate for a plan, from the store in CCOPS_HOME (never created here); the same answer for
    the same plan object, so a run's record keeps the figure its plan showed."""
    key = id(plan)
    if key not in _ESTIMATES:
        _ESTIMATES[key] = estimate(
            _stored_model(plan.verb.name), planned_batches(plan.waves), side_by_side(plan.inventory), plan.forks
        )
        weakref.finalize(plan, _ESTIMATES.pop, key, None)
    return _ESTIMATES[key]


def _stored_model(verb: str) -> Model:
    from ccops.paths import state_dir
    from ccops.store.records import Store, StoreError

    path = state_dir() / "ccops.db"
    if not path.is_file():
        return Model(verb)
    try:
        return learn(Store(path), verb)
    except StoreError:
        return Model(verb)  # an estimate is advice: a busy or damaged store leaves it out, never the plan


# -- time left while a run goes on ---------------------------------------------------------------


class RunClock:
    """Time left in a run: elapsed so far plus the model for the batches not yet finished.

    Shared by the run's progress lanes (threads); batches are named (wave name, batch number).
    """

    def __init__(
        self, model: Model, waves: list[Wave], done: Iterable[str], beside: set[str],
        clock: Callable[[], float] = time.monotonic, forks: int = DEFAULT_FORKS,
    ) -> None:  # fmt: skip
        self.model = model
        self.forks = forks
        self.beside = beside
        self.clock = clock
        self.started = clock()
        self.names = [w.name for w in waves]
        self.batches = planned_batches(waves, done)
        self.estimate = estimate(model, self.batches, beside, forks)
        self.running: dict[tuple[int, int], float] = {}
        self.finished: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    def _key(self, wave: str, index: int) -> tuple[int, int] | None:
        if wave not in self.names or not 0 < index <= len(self.batches[self.names.index(wave)]):
            return None
        return self.names.index(wave), index - 1

    def start(self, wave: str, index: int) -> None:
        with self._lock:
            key = self._key(wave, index)
            if key is not None and key not in self.finished:
                self.running.setdefault(key, self.clock())

    def finish(self, wave: str, index: int) -> None:
        with self._lock:
            key = self._key(wave, index)
            if key is not None:
                self.running.pop(key, None)
                self.finished.add(key)

    def elapsed(self) -> float:
        return self.clock() - self.started

    def left(self) -> float | None:
        """Seconds left, or None when the model cannot say (no past runs at one of the sites)."""
        if self.estimate.seconds is None:
            return None
        now = self.clock()
        with self._lock:

            def cost(i: int, j: int, site: str, hosts: int) -> float:
                if (i, j) in self.finished:
                    return 0.0
                full = self.model.sites[site].seconds(hosts, self.forks)
                begun = self.running.get((i, j))
                return full if begun is None else max(full - (now - begun), 0.0)

            return run_seconds(self.batches, cost, self.beside) + self.model.tail
