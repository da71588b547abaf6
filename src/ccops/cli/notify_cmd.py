"""ccops notify: reports pushed to the people on duty (rules in <inventory>/notify.yml)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from ccops.cli.options import inventory_option, output_option, resolve_inventory
from ccops.cli.output import echo, emit_json, table
from ccops.errors import CcopsError


@click.group()
def notify() -> None:
    """Messages to mail, signed webhooks, WeCom, DingTalk and Feishu, by the inventory's notify.yml."""


@notify.command("check")
@inventory_option
def check(inventory: Path | None) -> None:
    """Validate notify.yml; every problem is one FILE:LINE line."""
    from ccops.inventory.load import load_inventory
    from ccops.notify.rules import load_rules, rules_path

    path = resolve_inventory(inventory)
    rules = load_rules(path, set(load_inventory(path).sites))
    echo(f"{rules_path(path)}: {len(rules.channels)} channel(s), {len(rules.rules)} rule(s)")


@notify.command("send")
@click.argument("run")
def send(run: str) -> None:
    """Queue RUN's report for the channels its rules name, then deliver what is pending."""
    from ccops.notify.send import flush, queue_run
    from ccops.run import open_store

    store = open_store()
    queued = queue_run(store.resolve_run(run))
    if not queued:
        echo(f"run {run}: no rule sends its events anywhere")
        return
    _flushed(*flush(store))


@notify.command("flush")
def flush_cmd() -> None:
    """Retry every undelivered message once; exit 1 while some stay pending."""
    from ccops.notify.send import flush
    from ccops.run import open_store

    _flushed(*flush(open_store()))


@notify.command("test")
@click.argument("channel")
@inventory_option
def test(channel: str, inventory: Path | None) -> None:
    """Send a test message to CHANNEL now (nothing is queued)."""
    from ccops.notify.channels import FORMATS, Outgoing, deliver
    from ccops.notify.message import render
    from ccops.notify.rules import load_rules

    rules = load_rules(resolve_inventory(inventory))
    found = rules.channels.get(channel)
    if found is None:
        raise CcopsError(f"no channel {channel!r} in notify.yml; known: {', '.join(sorted(rules.channels)) or 'none'}")
    doc = {"kind": "test", "title": "ccops test message", "lines": [f"channel {channel} ({found.kind}) reaches you"]}
    deliver(found, rules.root, Outgoing("ccops test message", render(doc, FORMATS[found.kind]), FORMATS[found.kind]))
    echo(f"channel {channel}: delivered")


@notify.command("digest")
@inventory_option
def digest(inventory: Path | None) -> None:
    """Queue the daily digest (and risks new since the last one) by the rules, then deliver."""
    from ccops.inventory.load import load_inventory
    from ccops.notify.digest import queue_digest
    from ccops.notify.send import flush
    from ccops.run import open_store

    store = open_store()
    queued = queue_digest(load_inventory(resolve_inventory(inventory)), store)
    echo(f"{len(queued)} message(s) queued")
    _flushed(*flush(store))


@notify.command("status")
@click.option("--run", "run_id", help="Only this run's messages.")
@output_option()
def status(run_id: str | None, output: str) -> None:
    """Pending messages and every delivery attempt."""
    from ccops.notify import outbox
    from ccops.run import open_store

    store = open_store()
    run = store.resolve_run(run_id).id if run_id else None
    waiting = [m for m in outbox.pending() if run is None or m.run_id == run]
    tried = outbox.attempts(store, run)
    if output == "json":
        from ccops.cli.json_shapes import attempts_out

        emit_json(
            {
                "pending": [{k: v for k, v in m.__dict__.items() if k != "body"} for m in waiting],
                "attempts": attempts_out(tried),
            }
        )
        return
    echo(
        table(
            [[m.id[:12], m.run_id or "-", m.channel, m.created, m.attempts, m.last_error or "-"] for m in waiting],
            ["PENDING", "RUN", "CHANNEL", "CREATED", "TRIES", "LAST ERROR"],
        )
    )
    echo(
        table(
            [
                [
                    a["message"][:12],
                    a["run"] or "-",
                    a["channel"],
                    a["attempted"],
                    "yes" if a["delivered"] else "no",
                    a["error"] or "-",
                ]
                for a in tried
            ],
            ["MESSAGE", "RUN", "CHANNEL", "ATTEMPTED", "DELIVERED", "ERROR"],
        )
    )


def _flushed(delivered: int, left: Sequence[object]) -> None:
    echo(f"{delivered} delivered, {len(left)} pending")
    if left:
        raise CcopsError(f"{len(left)} message(s) not delivered; they stay in the outbox (ccops notify flush retries)")
