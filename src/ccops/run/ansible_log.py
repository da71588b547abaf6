"""What Ansible printed during a run, read back from the run folder's artifacts (``ccops runs log``).

Each batch attempt keeps ansible-runner's events under ``artifacts/IDENT/job_events`` (a node's
come back the same way). Their ``stdout`` is Ansible's own output; one host's part is the lines
of the events about that host, under the headers of their tasks, and its recap line. Everything
here was written by a run that talked to hosts: damaged files are named and skipped, and the
text is made safe for a terminal by the caller.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ATTEMPT = re.compile(r"w(\d+)-b(\d+)-a(\d+)")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # Ansible's own colours; any other control stays and is shown
HEADERS = ("playbook_on_play_start", "playbook_on_task_start", "playbook_on_handler_task_start")


@dataclass
class RunLog:
    lines: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # event files that could not be read
    batches: int = 0


def attempts(run_folder: Path) -> list[Path]:
    """The run's batch attempts in the order they ran (w1-b2-a1 before w1-b10-a1)."""
    root = run_folder / "artifacts"
    folders = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink()] if root.is_dir() else []

    def order(path: Path) -> tuple[int, int, int, str]:
        found = ATTEMPT.match(path.name)
        wave, batch, attempt = (int(n) for n in found.groups()) if found else (0, 0, 0)
        return wave, batch, attempt, path.name

    return sorted(folders, key=order)


def read_log(run_folder: Path, host: str | None = None) -> RunLog:
    """Ansible's output for the whole run, or only the parts about ``host``."""
    log = RunLog()
    for folder in attempts(run_folder):
        events = _events(folder / "job_events", log)
        part = _whole(events) if host is None else _about(events, host)
        if part:
            log.batches += 1
            log.lines += [f"== {folder.name}", *part]
    return log


def _events(folder: Path, log: RunLog) -> list[dict[str, Any]]:
    found: list[tuple[int, dict[str, Any]]] = []
    files = [p for p in folder.glob("*.json") if p.is_file() and not p.is_symlink()] if folder.is_dir() else []
    for path in files:
        try:
            event = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ValueError):
            log.damaged.append(f"{folder.parent.name}/{path.name}")
            continue
        if not isinstance(event, dict):
            log.damaged.append(f"{folder.parent.name}/{path.name}")
            continue
        counter = event.get("counter")
        found.append((counter if isinstance(counter, int) else 0, event))
    return [event for _, event in sorted(found, key=lambda item: item[0])]


def _text(event: dict[str, Any]) -> str:
    stdout = event.get("stdout")
    return COLOUR.sub("", stdout).strip("\r\n") if isinstance(stdout, str) else ""


def _whole(events: list[dict[str, Any]]) -> list[str]:
    return [text for text in map(_text, events) if text]


def _about(events: list[dict[str, Any]], host: str) -> list[str]:
    lines: list[str] = []
    headers: list[str] = []  # the play and task the next lines about the host come under
    for event in events:
        kind, text = event.get("event"), _text(event)
        data = event.get("event_data")
        data = data if isinstance(data, dict) else {}
        if kind in HEADERS and text:
            headers = [headers[0], text] if kind != "playbook_on_play_start" and headers else [text]
        elif kind == "playbook_on_stats":
            recap = [line for line in text.splitlines() if line.split(" ", 1)[0] == host]
            lines += ["PLAY RECAP", *recap] if recap else []
        elif data.get("host") == host and text:
            lines += [*headers, text]
            headers = []
    return lines


def reports(run_folder: Path, verb: str) -> list[tuple[str, dict[str, Any]]]:
    """(host, report) of every ccops_report in the run folder's batch events, parsed at the same edge as
    a batch's own events (parse_report): what a batch killed before it ended told the controller.
    Unreadable event files are skipped."""
    from ccops.hostdata.reports import parse_report

    out = []
    for attempt in attempts(run_folder):
        events = attempt / "job_events"
        for path in sorted(events.glob("*.json")) if events.is_dir() else []:
            try:
                event = json.loads(path.read_text(encoding="utf-8", errors="replace"))
            except (OSError, ValueError):
                continue
            data = event.get("event_data") if isinstance(event, dict) else None
            if not isinstance(data, dict) or event.get("event") != "runner_on_ok":
                continue
            res, host = data.get("res"), data.get("host")
            facts = res.get("ansible_facts") if isinstance(res, dict) else None
            if isinstance(facts, dict) and "ccops_report" in facts and isinstance(host, str):
                out.append((host, parse_report(facts["ccops_report"], verb)[0]))
    return out
