"""A verb's select pass (ccops.verbs.Preselect): one cheap play over the run's hosts before any wave.

patch asks each host what the approved content would change; a host with nothing to install is
recorded done (outcome ok, its report up_to_date with the host's reason) and runs no batch, so a
night with nothing to do costs one play instead of every batch's pre-checks and gates. Only a clean
answer skips a host: a failure, no answer, a damaged report or anything but up_to_date sends it
through the waves as if there were no pass. Hosts whose site window is closed are not asked (their
batch refuses them, as before), nor is anything asked once the approved inventory was edited (the
first batch halts on that). A resumed run asks again the hosts not yet done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccops.errors import CcopsError
from ccops.plan.maintenance import window_open
from ccops.run.identity import attempt_ident
from ccops.run.prepare import inventory_changes
from ccops.runner.events import OUTCOME_DAMAGED, OUTCOME_OK, HostOutcome
from ccops.text.safe_text import visible
from ccops.verbs import SELECT_WAVE

if TYPE_CHECKING:
    from ccops.inventory.model import Host
    from ccops.plan.build import Wave
    from ccops.run.execute import RunLoop

UP_TO_DATE = "up_to_date"  # the report outcome that alone lets a host skip the waves


def is_up_to_date(outcome: HostOutcome, report: object) -> bool:
    """A clean answer only: the host ran to the end and its (already parsed, undamaged) report says so."""
    return outcome.outcome == OUTCOME_OK and isinstance(report, dict) and report.get("outcome") == UP_TO_DATE


def candidates(loop: RunLoop, waves: list[Wave], done: set[str]) -> list[Host]:
    """The hosts the pass asks: not done, in the plan's order, at sites whose window is open."""
    if loop.prepared.inventory_files and inventory_changes(loop.inventory, loop.prepared.inventory_files):
        return []
    hosts = [h for w in waves for b in w.batches for h in b.hosts if h.name not in done]
    if loop.verb.changes_hosts and not loop.request.emergency:
        hosts = [h for h in hosts if window_open(loop.inventory.sites[h.site])]
    # a site run through its own node is not asked: a node job whose stream is lost is collected on resume
    # as if its hosts had run their batch, which a select pass must never be taken for
    side_by_side = getattr(loop.engine, "side_by_side", lambda site: False)
    preselect = loop.verb.preselect
    families = preselect.families if preselect is not None else ()
    return [
        h for h in hosts if h.os_family in families and not (loop.inventory.sites[h.site].node or side_by_side(h.site))
    ]


def select_pass(loop: RunLoop, waves: list[Wave], done: set[str]) -> list[HostOutcome]:
    """Run the pass; record and return the outcomes of the hosts found up to date (now done)."""
    preselect = loop.verb.preselect
    hosts = candidates(loop, waves, done)
    if preselect is None or not hosts:
        return []
    place = {h.name: (w.name, n, b.site) for w in waves for n, b in enumerate(w.batches, 1) for h in b.hosts}
    loop.progress.say(f"select pass: {len(hosts)} host(s) asked what the run would change")
    try:
        outcomes = loop.run_hosts(hosts, attempt_ident(loop.folder, "select"), loop.progress, action=preselect.action)
    except CcopsError as exc:  # the pass saves time, nothing more: its hosts go through the waves as before
        loop.progress.say(f"   select pass failed ({visible(str(exc))[:160]}); every host goes through the waves")
        return []
    up_to_date = [o for o in outcomes if is_up_to_date(o, loop.reports.get(o.host))]
    damaged = [o for o in outcomes if o.outcome == OUTCOME_DAMAGED]
    for outcome in up_to_date:
        outcome.message = "up to date"  # as a batch that found nothing says it (_judge)
    for outcome in outcomes:  # only a skip keeps its answer: every other host reports again in its batch
        if outcome not in up_to_date:
            loop.reports.pop(outcome.host, None)
    for outcome in damaged:  # recorded so until its batch records it again
        outcome.message = f"select answer damaged, goes through the waves: {outcome.message or ''}"[:500]
    rows = [{**o.as_record(), "wave": SELECT_WAVE, "report": None} for o in damaged]
    # recorded in the select wave (where they were decided; their times are the pass's, no batch's)
    rows += [{**o.as_record(), "wave": SELECT_WAVE, "report": loop.reports.get(o.host)} for o in up_to_date]
    if rows:
        with loop.lock:
            loop.store.record_hosts(loop.run_id, rows)
            loop.outcomes += up_to_date
    for outcome in up_to_date:  # --events: a host_result under the batch it no longer needs
        wave, batch_no, site = place[outcome.host]
        loop.events.emit("host_result", loop.run_id, wave=wave, batch=batch_no, site=site, **outcome.as_record())
    left = len(hosts) - len(up_to_date)
    loop.progress.say(f"   select pass: {len(up_to_date)} up to date (recorded, no batch); {left} go through the waves")
    return up_to_date
