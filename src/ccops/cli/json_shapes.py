"""What pipelines read: documents renamed to one naming before emit_json wraps them.

The names in ccops's JSON are snake_case fields; a run's id is ``run_id`` wherever it appears
(runs are what pipelines join on); another object's own id is ``id`` and a reference to one is
``<kind>_id`` (``message_id``); text that varies (a refusal's reason, a disk band) is a value,
never a key. The store, the page and the saved plan keep their own shapes: only the printed JSON
is renamed, here.
See docs/reference/json-output.md (the migration table lists each rename).
"""

from __future__ import annotations

from typing import Any


def named_id(document: dict[str, Any], kind: str) -> dict[str, Any]:
    """An object's ``id`` named for what it identifies (``run_id``), first."""
    out = dict(document)
    return {f"{kind}_id": out.pop("id"), **out} if "id" in out else out


def reasons(by_reason: dict[str, list[str]]) -> list[dict[str, Any]]:
    """{reason: hosts} -> [{"reason", "hosts"}]."""
    return [{"reason": reason, "hosts": hosts} for reason, hosts in by_reason.items()]


def plan_out(plan: Any) -> Any:
    """A plan document (plan -o json, a run's approved plan) with ``excluded`` as a list of reasons."""
    if isinstance(plan, dict) and isinstance(plan.get("excluded"), dict):
        return {**plan, "excluded": reasons(plan["excluded"])}
    return plan  # older records keep their waves only


def run_out(record: Any) -> dict[str, Any]:
    """A run record: its id as ``run_id``, its plan as plan_out gives it."""
    data = named_id(record.as_dict(), "run")
    return {**data, "plan": plan_out(data["plan"])}


def attempts_out(tried: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Delivery attempts: the ids they name are ``message_id`` and ``run_id``."""
    renamed = {"message": "message_id", "run": "run_id"}
    return [{renamed.get(k, k): v for k, v in a.items()} for a in tried]


def firing_out(firing: dict[str, Any]) -> dict[str, Any]:
    """A schedule's firing: what it refuses as a list of reasons."""
    return {**firing, "refuses": reasons(firing["refuses"])}


def report_out(document: dict[str, Any]) -> dict[str, Any]:
    """The fleet report: compliance counts snake_case, disk bands a list, a run's id ``run_id``."""

    def site(row: dict[str, Any]) -> dict[str, Any]:
        compliance = {k.replace(" ", "_"): v for k, v in row["compliance"].items()}
        disks = [{"band": band, "hosts": count} for band, count in row["disks"].items()]
        return {**row, "compliance": compliance, "disks": disks}

    runs = [named_id(r, "run") for r in document["runs"]]
    return {**document, "sites": [site(s) for s in document["sites"]], "runs": runs}
