"""What a run is asked to do, and what it did."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ccops.inventory.select import Selector
from ccops.runner.events import HostOutcome
from ccops.text.templating import is_templated

CHANGE_ID_MAX = 128  # ticket ids are short; a record is not a place for prose


@dataclass
class RunRequest:
    inventory: Path
    verb: str
    selector: Selector = field(default_factory=Selector)
    change_id: str | None = None
    batch_size: int | None = None
    forks: int = 25
    emergency: bool = False  # run outside maintenance windows
    options: dict[str, Any] = field(default_factory=dict)  # verb settings passed to the playbook
    reason: str | None = None  # why a run no operator typed was started (ccops reapply: "reverted after RUN")
    # a timer's firing: the schedule's name, its standing change id and "standing": true (ccops.schedule)
    schedule: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["inventory"] = str(self.inventory)
        data["selector"] = self.selector.as_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRequest:
        selector = Selector(**{k: tuple(v) for k, v in data["selector"].items()})
        return cls(**{**data, "inventory": Path(data["inventory"]), "selector": selector})


@dataclass
class RunResult:
    run_id: str
    verb: str
    status: str  # succeeded, nothing_done, failed, halted, interrupted
    exit_code: int
    hosts: list[HostOutcome]
    reports: dict[str, dict[str, Any]]
    started: str
    ended: str
    message: str | None = None
    waves: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "verb": self.verb,
            "status": self.status,
            "exit_code": self.exit_code,
            "message": self.message,
            "started": self.started,
            "ended": self.ended,
            "waves": self.waves,
            "hosts": [h.as_record() for h in self.hosts],
        }


def change_id_problem(value: str) -> str | None:
    """Why a change id cannot be recorded, or None. It lands in records, backups and logs as-is."""
    if not value.strip():
        return "is empty; give the change or ticket id, e.g. --change-id CHG-1234"
    if len(value) > CHANGE_ID_MAX:
        return f"is {len(value)} characters long; at most {CHANGE_ID_MAX}"
    if any(unicodedata.category(c)[0] == "C" or unicodedata.category(c) in ("Zl", "Zp") for c in value):
        return "contains a newline or another control character"
    if value != value.strip():
        return "starts or ends with spaces"
    if is_templated(value):
        return "would be templated by Ansible ({{, {% or {#): a change id is data"
    return None
