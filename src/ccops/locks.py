"""One changing run per host, across processes and across jump hosts sharing $CCOPS_HOME.

$CCOPS_HOME/locks.db (SQLite) holds, for every run in progress, who runs it
(operator, pid and start time, boot, machine), the hosts it changes, and the
ansible-playbook processes working for it. Every check-and-take is one
``BEGIN IMMEDIATE`` transaction, so two processes racing for a host cannot
both win.

A lock whose run is gone is stale and taken over (logged in locks.log): the
run's ccops process is dead or its pid now belongs to another process, and
no Ansible of it is still running. A lock held on another machine is never
judged from here: it is refused, naming its run, until an operator releases
it with ``ccops runs unlock RUN``.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ccops.errors import CcopsError
from ccops.processes import Process, ansible_processes

SCHEMA = """
CREATE TABLE IF NOT EXISTS holders (
  run_id TEXT PRIMARY KEY, verb TEXT NOT NULL, operator TEXT NOT NULL, since TEXT NOT NULL,
  process TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS host_locks (host TEXT PRIMARY KEY, run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ansible (
  run_id TEXT NOT NULL, ident TEXT NOT NULL, process TEXT NOT NULL, hosts TEXT NOT NULL, since TEXT NOT NULL,
  PRIMARY KEY (run_id, ident)
);
"""


@contextmanager
def held_flock(path: Path) -> Iterator[bool]:
    """An flock on ``path`` (created 0600, no symlink followed), never waited for: True when this process holds it.

    The kernel drops it with the process, so a killed holder leaves none behind.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


@contextmanager
def waited_flock(path: Path) -> Iterator[None]:
    """An flock on ``path`` (created 0600, no symlink followed), waited for: one holder at a time.

    The kernel drops it with the process, so a killed holder leaves none behind.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class LockError(CcopsError):
    """A host is held by another run (or the lock store cannot be used)."""


@dataclass
class Holder:
    run_id: str
    verb: str
    operator: str
    since: str
    process: Process
    hosts: list[str]

    def describe(self) -> str:
        return (
            f"run {self.run_id} ({self.verb} by {self.operator}, pid {self.process.pid} on "
            f"{self.process.host_name}, since {self.since})"
        )


@dataclass
class AnsibleRun:
    run_id: str
    ident: str  # the batch attempt, e.g. w1-b2-a1
    process: Process
    hosts: list[str]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _process(text: str) -> Process:
    return Process(**json.loads(text))


class Locks:
    def __init__(self, state: Path) -> None:
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = state / "locks.db"
        self.log_path = state / "locks.log"
        self.runs_dir = state / "runs"
        with self._transaction() as db:
            for statement in filter(str.strip, SCHEMA.split(";")):
                db.execute(statement)
        self.path.chmod(0o600)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: it takes the write lock before reading, so check-then-take is atomic."""
        try:
            with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
                db.row_factory = sqlite3.Row
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise LockError(
                f"{self.path}: the host lock store cannot be used ({exc}); if another ccops "
                "is writing it, try again; check the folder's permissions and free space"
            ) from None
        except sqlite3.DatabaseError as exc:
            raise LockError(
                f"{self.path}: the host lock store is damaged ({exc}); when no ccops run is "
                "in progress, move it aside (it holds only the locks of running runs)"
            ) from None

    def acquire(self, run_id: str, verb: str, operator: str, hosts: list[str], me: Process | None = None) -> list[str]:
        """Lock ``hosts`` for ``run_id`` (resuming it takes over its own old lock); returns what was
        taken over from dead runs. Raises LockError naming the run that holds a host."""
        me = me or Process.me()
        taken: list[str] = []
        with self._transaction() as db:
            holders = self._holders(db, hosts, run_id)
            busy = []
            for holder in holders:
                verdict = self._verdict(holder, db, own=holder.run_id == run_id)
                if verdict is None:
                    busy.append(holder)
                    continue
                self._drop(db, holder.run_id, keep_ansible=holder.run_id == run_id)
                if holder.run_id != run_id:
                    taken.append(f"took over {len(holder.hosts)} host lock(s) from {holder.describe()}: {verdict}")
                elif holder.hosts:
                    taken.append(f"took over run {run_id}'s own lock from pid {holder.process.pid}: {verdict}")
            if busy:
                raise LockError(self._refusal(busy, hosts, run_id))
            db.execute(
                "INSERT INTO holders (run_id, verb, operator, since, process) VALUES (?,?,?,?,?)",
                (run_id, verb, operator, _now(), json.dumps(me.as_dict())),
            )
            # OR REPLACE: every holder of these hosts is gone by now (dropped, or we raised)
            db.executemany(
                "INSERT OR REPLACE INTO host_locks (host, run_id) VALUES (?,?)", [(h, run_id) for h in hosts]
            )
        for line in taken:
            self._log(f"run {run_id}: {line}")
        return taken

    def release(self, run_id: str, me: Process | None = None) -> None:
        """The run ended: its locks go, unless another process took the run over meanwhile."""
        me = me or Process.me()
        with self._transaction() as db:
            row = db.execute("SELECT process FROM holders WHERE run_id=?", (run_id,)).fetchone()
            if row is not None and _process(row["process"]) == me:
                self._drop(db, run_id, keep_ansible=False)

    def holder(self, run_id: str) -> Holder | None:
        with self._transaction() as db:
            return self._holder(db, run_id)

    def unlock(self, run_id: str, operator: str) -> Holder:
        """An operator's release of a run's locks, for a run that is known to be dead."""
        with self._transaction() as db:
            holder = self._holder(db, run_id)
            if holder is None:
                raise LockError(f"run {run_id} holds no lock")
            state = holder.process.state()
            if state == "alive":
                raise LockError(
                    f"{holder.describe()} is still running; stop it (Ctrl-C, or kill "
                    f"{holder.process.pid}) instead of unlocking it"
                )
            alive = [a for a in self._ansible(db, run_id) if a.process.state() == "alive"]
            if alive:
                raise LockError(
                    f"run {run_id}'s Ansible pid {alive[0].process.pid} is still running on "
                    f"{', '.join(alive[0].hosts)}; ccops resume {run_id} waits for it"
                )
            self._drop(db, run_id, keep_ansible=False)
        self._log(
            f"run {run_id}: unlocked by {operator} (pid {os.getpid()}); "
            f"was {holder.describe()}, {state}, holding {', '.join(holder.hosts) or 'no host'}"
        )
        return holder

    def record_ansible(self, run_id: str, ident: str, pid: int, hosts: list[str]) -> None:
        process = Process.of(pid)
        if process is None:
            return  # it has already ended
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO ansible (run_id, ident, process, hosts, since) VALUES (?,?,?,?,?)",
                (run_id, ident, json.dumps(process.as_dict()), json.dumps(hosts), _now()),
            )

    def forget_ansible(self, run_id: str, ident: str | None = None) -> None:
        """The batch's Ansible ended (or, without ``ident``, every one of the run's has)."""
        with self._transaction() as db:
            if ident is None:
                db.execute("DELETE FROM ansible WHERE run_id=?", (run_id,))
            else:
                db.execute("DELETE FROM ansible WHERE run_id=? AND ident=?", (run_id, ident))

    def leftover_ansible(self, run_id: str) -> list[AnsibleRun]:
        """Ansible processes of this run still running here: recorded ones, and unrecorded ones
        (killed before Ansible's first event) found by their run folder."""
        with self._transaction() as db:
            found = [a for a in self._ansible(db, run_id) if a.process.state() == "alive"]
        known = {a.process for a in found}
        found += [AnsibleRun(run_id, "?", p, []) for p in ansible_processes(self.runs_dir / run_id) if p not in known]
        return found

    def _verdict(self, holder: Holder, db: sqlite3.Connection, own: bool) -> str | None:
        """Why a lock is stale, or None when it must be respected."""
        state = holder.process.state()
        if state in ("alive", "elsewhere"):
            return None
        if not own:  # a resume waits for its own leftover Ansible; another run must not start one
            if any(a.process.state() == "alive" for a in self._ansible(db, holder.run_id)):
                return None
            if ansible_processes(self.runs_dir / holder.run_id):
                return None
        return "its process is gone" if state == "dead" else f"pid {holder.process.pid} is another process now"

    def _refusal(self, busy: list[Holder], hosts: list[str], run_id: str) -> str:
        first, state = busy[0], busy[0].process.state()
        if first.run_id == run_id:
            subject = first.describe()
        else:
            held = [h for h in hosts if h in first.hosts] or first.hosts
            more = f" (and {len(busy) - 1} other run(s))" if len(busy) > 1 else ""
            subject = f"{', '.join(held[:5])}{' ...' if len(held) > 5 else ''} held by {first.describe()}{more}"
        if state == "elsewhere":
            return (
                f"{subject}: ccops cannot tell from this machine whether it still runs; if it is dead, "
                f"release it with: ccops runs unlock {first.run_id}"
            )
        if state == "alive":
            return f"{subject} is still running; wait for it to finish"
        return f"{subject}: its Ansible is still running; ccops resume {first.run_id} waits for it and continues"

    def _holders(self, db: sqlite3.Connection, hosts: list[str], run_id: str) -> list[Holder]:
        ids = {run_id}
        for chunk in range(0, len(hosts), 500):
            part = hosts[chunk : chunk + 500]
            marks = ",".join("?" * len(part))  # only placeholders; the names are bound parameters
            query = f"SELECT DISTINCT run_id FROM host_locks WHERE host IN ({marks})"  # noqa: S608
            ids.update(r["run_id"] for r in db.execute(query, part))
        return [h for h in (self._holder(db, i) for i in sorted(ids)) if h is not None]

    def _holder(self, db: sqlite3.Connection, run_id: str) -> Holder | None:
        row = db.execute("SELECT * FROM holders WHERE run_id=?", (run_id,)).fetchone()
        if row is None:
            return None
        hosts = [r["host"] for r in db.execute("SELECT host FROM host_locks WHERE run_id=? ORDER BY host", (run_id,))]
        return Holder(row["run_id"], row["verb"], row["operator"], row["since"], _process(row["process"]), hosts)

    def _ansible(self, db: sqlite3.Connection, run_id: str) -> list[AnsibleRun]:
        return [
            AnsibleRun(r["run_id"], r["ident"], _process(r["process"]), json.loads(r["hosts"]))
            for r in db.execute("SELECT * FROM ansible WHERE run_id=?", (run_id,))
        ]

    def _drop(self, db: sqlite3.Connection, run_id: str, keep_ansible: bool) -> None:
        db.execute("DELETE FROM host_locks WHERE run_id=?", (run_id,))
        db.execute("DELETE FROM holders WHERE run_id=?", (run_id,))
        if not keep_ansible:
            db.execute("DELETE FROM ansible WHERE run_id=?", (run_id,))

    def _log(self, line: str) -> None:
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as log:
            log.write(f"{_now()} {line}\n")
