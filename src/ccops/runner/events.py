"""Turn ansible-runner events into per-host outcomes and reports.

Outcomes are judged per host from events, never from the exit code alone:
ansible-core can exit 0 after a rescue and 2 when failed hosts were rescued,
and unreachable hosts need their own verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ccops.hostdata import parse_report
from ccops.hostdata.kinds import mend
from ccops.store.records import now

OUTCOME_OK = "ok"
OUTCOME_FAILED = "failed"
OUTCOME_UNREACHABLE = "unreachable"
OUTCOME_RESCUED = "rescued"  # a block failed and its rescue ran: the verb decides what that means
OUTCOME_NOT_RUN = "not run"  # Ansible never reached the host (run stopped or interrupted)
# the stream from a site's node was lost mid-batch: what happened is on the node (ccops resume asks)
OUTCOME_UNKNOWN = "unknown"
# the host ran, but what it reported did not fit its declared shape: kept as far as it fitted, fields named
OUTCOME_DAMAGED = "damaged"
FAILING = (OUTCOME_FAILED, OUTCOME_UNREACHABLE, OUTCOME_NOT_RUN, OUTCOME_DAMAGED)
STOPPED_ANSWERING = (
    "the host stopped answering (no reply while Ansible started sudo: frozen or overloaded, "
    "not a sudo password problem)"
)


@dataclass
class HostOutcome:
    host: str
    outcome: str
    changed: int = 0
    message: str | None = None
    started: str | None = None
    ended: str | None = None

    def as_record(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "outcome": self.outcome,
            "changed": self.changed,
            "message": self.message,
            "started": self.started,
            "ended": self.ended,
        }


@dataclass
class EventCollector:
    """An ansible-runner ``event_handler``: collects results, feeds the progress display."""

    on_event: Callable[[dict[str, Any]], None] | None = None
    verb: str | None = None  # picks the schema reports are parsed with (else their outcome word does)
    stats: dict[str, Any] | None = None  # the playbook_on_stats event data
    errors: dict[str, str] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # parsed into their declared shape
    damaged: dict[str, list[str]] = field(default_factory=dict)  # host -> fields of its report that did not fit
    first_seen: dict[str, str] = field(default_factory=dict)
    last_play: str | None = None  # the play that started last (a serial play counts as one)
    in_last_play: set[str] = field(default_factory=set)  # hosts with a task result in that play
    silent: set[str] = field(default_factory=set)  # hosts that stopped answering mid-task (a frozen machine)
    lost: str | None = None  # why the events stopped before the batch ended (a node's stream was lost)

    def __call__(self, event: dict[str, Any]) -> bool:
        # a node's journal replays events it kept: their shape is checked like any host's answer
        kind: str = event["event"] if isinstance(event.get("event"), str) else ""
        data: dict[str, Any] = event["event_data"] if isinstance(event.get("event_data"), dict) else {}
        host: str | None = data["host"] if isinstance(data.get("host"), str) else None
        if host and host not in self.first_seen and kind.startswith("runner_on_"):
            self.first_seen[host] = now()
        if kind == "playbook_on_play_start":
            self.last_play, self.in_last_play = _play_id(data.get("uuid")), set()
        elif (
            host
            and kind.startswith("runner_on_")
            and kind != "runner_on_start"
            and _play_id(data.get("play_uuid")) == self.last_play
        ):
            self.in_last_play.add(host)
        res: dict[str, Any] = data["res"] if isinstance(data.get("res"), dict) else {}
        # every runner_on_* result event names its host: "host is not None" only narrows the type
        if kind == "runner_on_ok" and host is not None:
            self._report(host, res.get("ansible_facts"))
        elif kind == "runner_on_failed" and host is not None and not data.get("ignore_errors"):
            if _stopped_answering(res):
                self.silent.add(host)
                self.errors[host] = f"unreachable: {_task(data)}: {STOPPED_ANSWERING}"
            else:
                self.errors[host] = f"{_task(data)}: {_message(res)}"
        elif kind == "runner_on_unreachable" and host is not None:
            self.errors[host] = f"unreachable: {STOPPED_ANSWERING if _stopped_answering(res) else _message(res)}"
        elif kind == "playbook_on_stats":
            self.stats = _stats(data)
        if self.on_event is not None:
            self.on_event(event)
        return True  # keep the event in the run's artifacts

    def _report(self, host: str, facts: Any) -> None:
        """The edge: what a host says is parsed here, once, into its declared shape (the last one set wins)."""
        if not isinstance(facts, dict) or "ccops_report" not in facts:
            return
        self.reports[host], damaged = parse_report(facts["ccops_report"], self.verb)
        if damaged:
            self.damaged[host] = damaged
        else:
            self.damaged.pop(host, None)

    def outcomes(self, hosts: list[str]) -> list[HostOutcome]:
        stats = self.stats or {}
        ended = now()
        out = []
        for host in hosts:
            if self.lost is not None:
                out.append(HostOutcome(host, OUTCOME_UNKNOWN, 0, self.lost, self.first_seen.get(host), None))
                continue
            if host in (stats.get("dark") or {}) or host in self.silent:
                outcome = OUTCOME_UNREACHABLE
            elif host in (stats.get("failures") or {}):
                outcome = OUTCOME_FAILED
            elif host in (stats.get("rescued") or {}):
                outcome = OUTCOME_RESCUED
            elif host in self.in_last_play and any(
                host in (stats.get(k) or {}) for k in ("ok", "changed", "skipped", "ignored")
            ):
                # the stats count the validation play, which contacts no host: only a result in the
                # playbook's last play shows that the host was reached (serial plays stop early)
                outcome = OUTCOME_OK
            else:
                outcome = OUTCOME_NOT_RUN
            changed = int((stats.get("changed") or {}).get(host, 0))
            message = self.errors.get(host)
            if host in self.damaged:
                outcome = OUTCOME_DAMAGED if outcome in (OUTCOME_OK, OUTCOME_RESCUED) else outcome
                message = "; ".join(filter(None, [message, damage_line(self.damaged[host])]))
            out.append(
                HostOutcome(
                    host,
                    outcome,
                    changed,
                    message,
                    self.first_seen.get(host),
                    ended if host in self.first_seen else None,
                )
            )
        return out


def damage_line(damaged: list[str], shown: int = 5) -> str:
    """One line naming the report's fields that did not fit (the first few; the record keeps them all)."""
    more = f"; and {len(damaged) - shown} more" if len(damaged) > shown else ""
    return "host data damaged: " + "; ".join(damaged[:shown]) + more


def _stats(data: dict[str, Any]) -> dict[str, Any]:
    """The stats event in its declared shape (a node's journal replays it): per verdict, host -> count.

    A host named under a verdict counts whatever number came with it (a count that is not a
    whole number reads as 1: the host is there); a verdict that is not a mapping names no host.
    """
    out: dict[str, Any] = {}
    for verdict, hosts in data.items():
        if not isinstance(hosts, dict):
            continue
        out[verdict] = {
            host: count if type(count) is int and 0 <= count < 2**31 else 1
            for host, count in hosts.items()
            if isinstance(host, str)
        }
    return out


def _task(data: dict[str, Any]) -> str:
    """The failed task's name as a message starts with it (a replayed journal's could be anything)."""
    task = data.get("task")
    return mend(task[:200]) if isinstance(task, str) and task else "task"


def _play_id(uuid: object) -> str | None:
    # ansible-runner suffixes a serial play's uuid per batch (UUID_1, UUID_2): one play all the same
    return str(uuid).split("_")[0] if uuid else None


def _stopped_answering(res: dict[str, Any]) -> bool:
    """Ansible's become timeout: the connection was up, then the host said nothing at all.

    A frozen (or paused) machine ends a task this way before any command ran; ccops reports it
    as a host that stopped answering, which is what it is, not as a sudo prompt problem.
    """
    text = str(res.get("msg") or "")
    return "waiting for privilege escalation prompt" in text or "waiting for become success" in text


def _message(res: dict[str, Any]) -> str:
    from ccops.runner.hostkeys import explain_ssh_failure

    # a host's words, stored as they are kept: no NUL or lone surrogate (SQLite refuses those)
    text = mend(str(res.get("msg") or res.get("stderr") or res.get("module_stderr") or "failed"))
    refused = explain_ssh_failure(text)
    if refused:
        return refused
    lines = text.strip().splitlines()
    return (lines[-1] if lines else "failed")[:300]
