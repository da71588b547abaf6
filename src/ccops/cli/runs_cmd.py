"""ccops runs list|show|log: the record every run leaves, and what Ansible printed."""

from __future__ import annotations

import shlex
from typing import Any

import click

from ccops.cli.confirm import confirm
from ccops.cli.options import output_option
from ccops.cli.output import echo, emit_json, table
from ccops.errors import CcopsError, UsageError
from ccops.text.safe_text import visible


@click.group()
def runs() -> None:
    """Run history: who ran what, when, on which commit and inventory, with what result."""


@runs.command("list")
@click.option("-n", "--last", "limit", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--verb", help="Only runs of this verb.")
@output_option()
def list_runs(limit: int, verb: str | None, output: str) -> None:
    """The most recent runs, newest first."""
    from ccops.run import open_store

    records = open_store().runs(limit, verb)
    if output == "json":
        from ccops.cli.json_shapes import run_out

        emit_json([run_out(r) for r in records])
        return
    rows = [
        [
            r.id,
            r.verb,
            r.status,
            r.started,
            r.operator,
            r.change_id or "-",
            ", ".join(f"{h['outcome']}={h['count']}" for h in r.hosts),
        ]
        for r in records
    ]
    echo(table(rows, ["RUN", "VERB", "STATUS", "STARTED", "OPERATOR", "CHANGE", "HOSTS"]))


@runs.command("show")
@click.argument("run_id", metavar="RUN")
@output_option()
def show_run(run_id: str, output: str) -> None:
    """One run with every host's outcome (RUN: the full id or a unique prefix of 8 or more characters)."""
    from ccops.notify.outbox import attempts
    from ccops.run import open_store

    store = open_store()
    record = store.run(run_id)
    if record is None:
        raise UsageError(f"no run {visible(run_id)!r}; see ccops runs list")
    deliveries = attempts(store, record.id)  # the run's report pushed to people (ccops notify)
    if output == "json":
        from ccops.cli.json_shapes import attempts_out, run_out

        emit_json({**run_out(record), "deliveries": attempts_out(deliveries)})
        return
    echo(f"run {record.id}: {record.verb} {record.status} (exit {record.exit_code})")
    for key in ("operator", "change_id", "git_commit", "inventory", "inventory_sha256", "started", "ended", "message"):
        echo(f"  {key:<17}{getattr(record, key) or '-'}")
    echo(f"  {'selectors':<17}{selector_text(record.selectors)}")
    fired = record.request.get("schedule") if isinstance(record.request, dict) else None
    if isinstance(fired, dict):  # an unattended firing (ccops.schedule): an auditor tells it apart here
        name, change = visible(str(fired.get("name"))), visible(str(fired.get("change_id")))
        echo(f"  {'schedule':<17}{name}, unattended under standing change {change}")
    for sent in deliveries:
        verdict = "delivered" if sent["delivered"] else f"not delivered ({sent['error'] or 'no answer'})"
        echo(f"  {'report':<17}to {sent['channel']} at {sent['attempted']}: {verdict}")
    echo("")
    echo(
        table(
            [
                [
                    h["host"],
                    h["wave"] or "",
                    h["outcome"],
                    h["changed"],
                    report_detail(h.get("report")),
                    h["message"] or "",
                ]
                for h in record.hosts
            ],
            ["HOST", "WAVE", "RESULT", "CHANGED", "DONE", "MESSAGE"],
        )
    )


@runs.command("log")
@click.argument("run_id", metavar="RUN")
@click.argument("host", required=False)
def run_log(run_id: str, host: str | None) -> None:
    """Ansible's output of RUN, or only HOST's part of it, safe to show on a terminal.

    Read from the run's artifacts (kept for the last CCOPS_KEEP_RUNS runs): each batch
    attempt under its name (w1-b2-a1: wave 1, batch 2, first attempt)."""
    from ccops.run import open_store
    from ccops.run.ansible_log import read_log
    from ccops.run.identity import run_dir
    from ccops.store.records import RunIdError

    try:
        record = open_store().run(run_id)
    except RunIdError as exc:
        raise UsageError(str(exc)) from None
    if record is None:
        raise UsageError(f"no run {visible(run_id)!r}; see ccops runs list")
    outcome = None
    if host is not None:
        outcome = next((h for h in record.hosts if h["host"] == host), None)
        if outcome is None:
            raise UsageError(f"run {record.id} has no host {visible(host)!r}; see ccops runs show {record.id}")
    folder = run_dir(record.id)
    if not folder.is_dir():
        raise CcopsError(f"run {record.id} kept no Ansible output (run folders are kept for the last runs only)")
    log = read_log(folder, host)
    for line in log.lines:
        echo(line)
    if outcome is not None and not log.lines:
        # refused before Ansible ran (closed window), or never reached: the record says why
        echo(f"{host}: {outcome['outcome']}, no Ansible output: {outcome['message'] or 'it did not run'}")
    elif not log.lines:
        echo(f"run {record.id}: no Ansible output (no batch ran Ansible: ccops runs show {record.id} says why)")
    for name in log.damaged:
        echo(f"ccops: {record.id}: could not read the event file {name}; skipped", err=True)


def report_detail(report: object) -> str:
    """What a host's report says was done: the backup a rollback restored, the packages a patch changed."""
    if not isinstance(report, dict):
        return ""
    parts = []
    restored = report.get("rollback")
    if isinstance(restored, dict) and restored.get("id"):
        parts.append(f"restored {restored['id']}")
    changes = report.get("packages_changed")
    if isinstance(changes, dict):
        counts = {k: len(changes.get(k) or ()) for k in ("changed", "added", "removed")}
        parts.append(", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no package changed")
    for phase in ("before", "after"):
        backup = report.get(f"backup_{phase}")
        if isinstance(backup, dict) and backup.get("id"):
            parts.append(f"backup {phase} {backup['id']}")
    final = report.get("final_backup")
    if isinstance(final, dict) and final.get("id"):
        parts.append(f"final backup {final['id']}")
    sanitised = report.get("sanitised")
    if isinstance(sanitised, list) and sanitised:
        passed = sum(1 for s in sanitised if isinstance(s, dict) and s.get("result") == "passed")
        parts.append(f"{passed}/{len(sanitised)} path(s) sanitised")
    return "; ".join(parts)


@runs.command("verify")
@click.option(
    "--full", is_flag=True, help="Check every seal and every record ever written, not only since the last check."
)
@output_option()
def verify_runs(full: bool, output: str) -> None:
    """Check the hash chain over run records, host results and certificates.

    By default from the last verified seal (the checkpoint a clean check keeps
    in the store): that seal must be unchanged, and every seal after it, and each
    record sealed since, must match. --full walks the whole chain and every record
    ever written: it also finds an older record edited and records written outside
    ccops. Names the first record edited, deleted or written outside ccops (exit 1),
    and prints the chain's head: keep it outside the store to anchor the history.
    """
    from ccops.run import open_store

    verdict = open_store().verify_chain(full=full)
    if output == "json":
        emit_json(verdict.as_dict())
    else:
        since = f" since {verdict.started}" if verdict.started else ""
        adopted = f" ({verdict.adopted} adopted from before the chain)" if verdict.adopted else ""
        scope = f" after the checkpoint #{verdict.since_seq}" if verdict.since_seq else ""
        echo(
            f"chain: {verdict.seals} seal(s) checked{scope}{since}{adopted}; head #{verdict.head_seq} "
            f"{verdict.head_sha256}"
        )
        for finding in verdict.findings:
            echo(f"  {finding}")
    if not verdict.ok:
        first = verdict.findings[0]
        raise CcopsError(
            f"the record history was changed outside ccops: first {first}"
            + (f" (and {len(verdict.findings) - 1} more)" if len(verdict.findings) > 1 else "")
        )
    if output != "json":
        echo("every record matches its seal")


@runs.command("certificate")
@click.argument("run_id", metavar="RUN")
@click.argument("host")
@output_option()
def show_certificate(run_id: str, host: str, output: str) -> None:
    """The sanitisation certificate of HOST in decommission run RUN, printable (or JSON)."""
    from ccops.decommission.certificate import render_text
    from ccops.run import open_store

    store = open_store()
    record = store.resolve_run(run_id)
    found = store.certificate(record.id, host)
    if found is None:
        hosts = ", ".join(store.certificates(record.id)) or "none"
        raise CcopsError(f"run {record.id} has no certificate for {host!r} (certificates: {hosts})")
    if output == "json":
        emit_json(found)
        return
    echo(render_text(found))


@runs.command("unlock")
@click.argument("run_id", metavar="RUN")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (pipelines).")
def unlock_run(run_id: str, yes: bool) -> None:
    """Release the host locks of RUN, a run known to be dead.

    Locks of a dead run on this machine are taken over by themselves; a run
    started on another jump host sharing this state folder cannot be judged
    from here, so its locks stay until released with this command.
    """
    from ccops.run import open_locks, operator

    locks = open_locks()
    holder = locks.holder(run_id)
    if holder is None:
        raise CcopsError(f"run {run_id!r} holds no lock; see ccops runs list")
    confirm(
        f"release {len(holder.hosts)} host lock(s) of {holder.describe()} (only if that run is no longer running)", yes
    )
    locks.unlock(run_id, operator())
    echo(f"released the locks of run {run_id} on {', '.join(holder.hosts) or 'no host'}")


# Selector keys as the options that set them, so a run's selection can be pasted back on a command line.
SELECTOR_OPTIONS = {"sites": "--site", "roles": "--role", "os": "--os", "lines": "--line", "limit": "--limit"}


def selector_text(selectors: dict[str, Any]) -> str:
    if not selectors:
        return "all hosts"
    words = []
    ordered = [k for k in SELECTOR_OPTIONS if k in selectors] + [k for k in selectors if k not in SELECTOR_OPTIONS]
    for key, values in ((k, selectors[k]) for k in ordered):
        for value in values if isinstance(values, list) else [values]:
            option = SELECTOR_OPTIONS.get(key)
            words += [option, shlex.quote(str(value))] if option else [shlex.quote(f"{key}={value}")]
    return " ".join(words)
