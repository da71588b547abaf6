"""A resumed decommission trusts the controller's record of the final backup, never the host's mark.

The mark a host keeps (decommission.json) names the verified final backup an earlier attempt took,
so a resume verifies that backup instead of taking a new one of a host already half-revoked. The
host controls that file: a mark naming another archive, or another machine, would have the run
verify and keep a backup that is not this machine's. So the checksum and machine the resume
verifies against come from the run records (every decommission run's host reports keep the final
backup they took, the "decommissioning" report; a batch whose controller was killed before it
ended left that report only in the run folder's events, read the same way); the mark only names
which backup. A mark naming
a backup no record knows, or disagreeing with the record, stops that host: the mark is damaged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccops.store.records import Store

VERB = "decommission"
RECENT_RUNS = 200  # decommission runs are few (ten hosts each at most): the recent ones cover a resume
FIELDS = ("sha256", "machine_id")


def _backup(report: Any) -> dict[str, Any] | None:
    backup = report.get("final_backup") if isinstance(report, dict) else None
    if not isinstance(backup, dict) or not all(isinstance(backup.get(k), str) and backup[k] for k in ("id", *FIELDS)):
        return None
    return dict(backup)


def recorded_final_backups(store: Store, earlier: list[tuple[str, dict[str, Any]]], names: list[str]) -> dict[str, Any]:
    """Playbook variables for a batch: {"decommission_recorded_backups": {host: {backup id: the final
    backup as recorded (sha256, machine_id, paths...)}}}, from the final backups the hosts reported in
    this run's own earlier batches (``earlier``: the run loop reads them from the run folder's events,
    which a batch killed before it ended never gave the store) and in recent decommission runs."""
    wanted = set(names)
    found: dict[str, dict[str, dict[str, Any]]] = {}

    def keep(host: Any, report: Any) -> None:
        backup = _backup(report) if host in wanted else None
        if backup:
            found.setdefault(host, {}).setdefault(backup["id"], backup)  # the first found wins

    for host, report in earlier:
        keep(host, report)
    for summary in store.runs(limit=RECENT_RUNS, verb=VERB):
        record = store.run(summary.id)
        for result in record.hosts if record else []:
            keep(result.get("host"), result.get("report"))
    return {"decommission_recorded_backups": found}


def mark_check(mark: Any, recorded: Any) -> dict[str, Any]:
    """What a host's mark may be trusted for: {"backup": the final backup to verify, from the record
    (None when the mark names none), "problem": why the host stops ("" when it may go on)}."""
    named = mark.get("final_backup") if isinstance(mark, dict) else None
    if named is None:
        return {"backup": None, "problem": ""}
    backup_id = named.get("id") if isinstance(named, dict) else None
    if not isinstance(backup_id, str) or not backup_id:
        return {"backup": None, "problem": "damaged decommission mark: its final backup has no id"}
    shown = backup_id[:120]
    record = recorded.get(backup_id) if isinstance(recorded, dict) else None
    if not isinstance(record, dict):
        return {
            "backup": None,
            "problem": f"damaged decommission mark: final backup {shown!r} is in no run record; "
            "the host's word is never trusted (check the host and its backups by hand)",
        }
    differ = [k for k in FIELDS if named.get(k) != record.get(k)]
    if differ:
        return {
            "backup": None,
            "problem": f"damaged decommission mark: its {' and '.join(differ)} for final backup {shown!r} "
            "disagree with the run record",
        }
    return {"backup": dict(record), "problem": ""}
