"""Which hosts a site's ``quarantine:`` policy holds apart now, and which automatic holds lift.

Pure: it reads what the store already said (ccops.report.risks.FleetState: newest compliance per
host, recent runs with their failed hosts' reports, reverted findings; the ``vuln_fixable``
risks of ccops.vulns.risks) and the holds in force, never the store itself.

- ``out_of_policy_days``: the store keeps only each host's newest comply result, so "since"
  is the start of the host's newest unbroken row of failing comply runs within the runs read
  (``FleetState.runs``: load it with ``runs_days`` above the site's limit); a host failing
  through the whole window counts from the window's first failing run (still past the limit).
- ``vuln_urgency``: a fixable CVE of that urgency or above, past the site's limit.
- ``reverted``: a ``reverted`` finding (a damaged finding is a data problem: never a hold).
- ``decommission_guard``: the host's newest decommission run failed on it.

A manual hold is never lifted here. An automatic hold lifts when none of its conditions holds
any more and a comply run other than the one that applied it found the host in policy after
the hold began (so the hold lasts at least until the next check), or when the host left service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ccops.inventory.compliance import IN_SERVICE, hold_refusal
from ccops.inventory.site_file import VULN_URGENCIES
from ccops.report.reverted import REVERTED, stored_time
from ccops.store.holds import Hold, now_text
from ccops.text.safe_text import visible
from ccops.verbs import VERBS, recorded_verb

if TYPE_CHECKING:
    from ccops.inventory.model import Host, Inventory
    from ccops.report.risks import FleetState
    from ccops.store.records import RunRecord

REASON_MAX = 300  # one reason's characters: details come from what hosts reported
COMPLY_VERBS = tuple(name for name, verb in VERBS.items() if verb.report == "compliance")  # check and fix
PASSING = ("ok", "changed")
FAILED = ("failed", "damaged")


@dataclass
class Evaluation:
    holds: list[Hold] = field(default_factory=list)  # new automatic holds, each with its reasons
    lifts: dict[str, str] = field(default_factory=dict)  # host -> why its automatic hold lifts
    refused: dict[str, str] = field(default_factory=dict)  # host -> why the policy's hold cannot be applied

    def as_dict(self) -> dict[str, Any]:
        return {
            "hold": [h.as_dict() for h in self.holds],
            "lift": [{"host": h, "reason": r} for h, r in self.lifts.items()],
            "refused": [{"host": h, "reason": r} for h, r in self.refused.items()],
        }


def evaluate(
    inventory: Inventory,
    state: FleetState,
    holds: dict[str, Hold],
    now: datetime,
    vulns: Iterable[dict[str, Any]] = (),
) -> Evaluation:
    out = Evaluation()
    by_host: dict[str, list[dict[str, Any]]] = {}
    for risk in vulns:
        by_host.setdefault(str(risk.get("host")), []).append(risk)
    comply_runs = sorted((r for r in state.runs if r.verb in COMPLY_VERBS), key=lambda r: (r.started, r.id))
    for host in inventory.hosts.values():
        held = holds.get(host.name)
        if host.lifecycle not in IN_SERVICE:
            if held is not None and held.automatic:
                out.lifts[host.name] = f"{host.lifecycle}: no longer in service"
            continue
        reasons = host_reasons(inventory, host, state, comply_runs, by_host.get(host.name, []), now)
        if held is None and reasons:
            refusal = hold_refusal(inventory, host)
            if refusal:
                out.refused[host.name] = refusal
            else:
                shown = [_line(r) for r in reasons]
                out.holds.append(Hold(host.name, host.site, now_text(now), shown, automatic=True))
        elif held is not None and held.automatic and not reasons:
            passed = _passing_check(host.name, held, state)
            if passed:
                out.lifts[host.name] = f"in policy at comply run {passed}, no hold condition left"
    for name, held in holds.items():
        if name not in inventory.hosts and held.automatic:
            out.lifts[name] = "no longer in the inventory"
    return out


def host_reasons(
    inventory: Inventory,
    host: Host,
    state: FleetState,
    comply_runs: list[RunRecord],
    vulns: list[dict[str, Any]],
    now: datetime,
) -> list[str]:
    """Why the site's policy holds this host now (empty: it does not)."""
    policy = inventory.sites[host.site].quarantine
    out = []
    limit = policy.get("out_of_policy_days")
    if limit is not None:
        since = out_of_policy_since(host.name, state, comply_runs)
        if since is not None and (days := (now - since).total_seconds() / 86400) > limit:
            out.append(f"out of policy for {days:.1f} days (since {now_text(since)}; the site allows {limit})")
    urgency = policy.get("vuln_urgency")
    if urgency is not None:
        lowest = VULN_URGENCIES.index(urgency)
        for risk in vulns:
            if risk.get("urgency") in VULN_URGENCIES and VULN_URGENCIES.index(risk["urgency"]) >= lowest:
                out.append(f"vulnerability: {risk.get('detail')}")
    found = state.reverted.get(host.name)
    if policy.get("reverted") and found is not None and found.kind == REVERTED:
        out.append(f"reverted: {found.detail}")
    failed = policy.get("decommission_guard") and _decommission_failure(host.name, state.runs)
    if failed:
        out.append(failed)
    return out


def _line(reason: str) -> str:
    """A reason as one inert line: host-reported text (messages, versions) is shown, never obeyed."""
    text = visible(reason)
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 3] + "..."


def out_of_policy_since(name: str, state: FleetState, comply_runs: list[RunRecord]) -> datetime | None:
    """When the host's newest unbroken row of failing comply results began (None: in policy now)."""
    entry = state.compliance.get(name)
    if not entry or not entry.get("deviations"):
        return None
    since = stored_time(entry.get("checked"))
    for run in reversed(comply_runs):  # newest first
        outcome = next((h.get("outcome") for h in run.hosts if h.get("host") == name), None)
        if outcome in PASSING:
            break
        if outcome in FAILED:
            started = stored_time(run.started)
            since = started if since is None or (started is not None and started < since) else since
    return since


def _decommission_failure(name: str, runs: list[RunRecord]) -> str:
    for run in sorted(runs, key=lambda r: (r.started, r.id), reverse=True):
        if not ((verb := recorded_verb(run.verb)) and verb.retires_hosts):
            continue
        result = next((h for h in run.hosts if h.get("host") == name), None)
        if result is None:
            continue
        if result.get("outcome") in ("failed", "damaged", "unreachable"):
            why = f": {result['message']}" if result.get("message") else ""
            return f"decommission run {run.id} failed on it{why}"
        return ""
    return ""


def _passing_check(name: str, held: Hold, state: FleetState) -> str:
    """The comply run that found the held host in policy after the hold began, other than the one that
    applied it ("" when there is none yet)."""
    entry = state.compliance.get(name)
    if not entry or entry.get("deviations") or entry.get("run_id") == held.applied_run:
        return ""
    checked, since = stored_time(entry.get("checked")), stored_time(held.since)
    if checked is None or since is None or checked < since:
        return ""
    return str(entry["run_id"])
