"""ccops content snapshot / approve / list: approved patch content on each site's distribution point."""

from __future__ import annotations

from pathlib import Path

import click

from ccops.cli.options import change_id_option, events_option, inventory_option, output_option, resolve_inventory
from ccops.cli.output import echo, emit_json, table


@click.group()
def content() -> None:
    """Approved patch content: snapshots of the updates a site's Debian hosts need,
    served signed from the site's distribution point; `ccops patch` installs only
    from an approved one."""


@content.command("snapshot")
@inventory_option
@click.option("--site", "sites", multiple=True, help="This site (repeatable). Default: every site with a point.")
@change_id_option(required=False, help="Change or ticket id recorded with the runs.")
@output_option()
@events_option
def snapshot(inventory: Path | None, sites: tuple[str, ...], change_id: str | None, output: str) -> None:
    """For each Debian release among the site's active hosts, the updates they need
    from the release's -security and -updates suites (only packages they have, and
    the new ones an update pulls in): downloaded by a host of that release with its
    own sources, checked on the controller against the signed index, signed with
    the inventory's key and staged, verified, on the site's point. Not approved."""
    from ccops.content.snapshot import take_snapshot
    from ccops.inventory.load import load_inventory
    from ccops.runner.progress import Progress

    path = resolve_inventory(inventory)
    chosen = sites or tuple(c for c, s in load_inventory(path).sites.items() if s.distribution_point.get("host"))
    if not chosen:
        from ccops.errors import UsageError

        raise UsageError("no site of this inventory declares a distribution point")
    results = [take_snapshot(path, site, change_id, Progress(enabled=output == "text")) for site in chosen]
    if output == "json":
        emit_json([{"snapshot": r.manifest, "runs": r.runs} for r in results])
        return
    for r in results:
        m = r.manifest
        for release, entry in m["releases"].items():
            echo(f"snapshot {m['id']} site {m['site']} {release}: {len(entry['packages'])} package(s)")
            for name, version in entry["packages"].items():
                echo(f"  {name}={version}")
        echo(f"snapshot {m['id']}: staged on site {m['site']}'s point, not approved "
                   f"(ccops content approve {m['id']} --change-id ID)")  # fmt: skip


@content.command("approve")
@click.argument("snapshot_id", metavar="SNAPSHOT")
@inventory_option
@change_id_option(required=True, help="The change that approves this content (recorded with who and when).")
@output_option()
def approve(snapshot_id: str, inventory: Path | None, change_id: str, output: str) -> None:
    """Approve a snapshot: `ccops patch` of its site installs from it from now on."""
    from ccops.content.snapshots import approve as approve_snapshot
    from ccops.errors import UsageError
    from ccops.inventory.load import load_inventory
    from ccops.run import change_id_problem, operator

    if problem := change_id_problem(change_id):
        raise UsageError(f"change id {change_id[:40]!r} {problem}")
    manifest = approve_snapshot(load_inventory(resolve_inventory(inventory)), snapshot_id, change_id, operator())
    if output == "json":
        emit_json(manifest)
        return
    record = manifest["approval"]
    echo(f"snapshot {snapshot_id} (site {manifest['site']}) approved under {change_id} "
               f"by {record['by']} at {record['at']}")  # fmt: skip


@content.command("list")
@inventory_option
@output_option()
def list_snapshots(inventory: Path | None, output: str) -> None:
    """Every snapshot of this inventory: site, releases, package count, staged, approval."""
    from ccops.content.patching import approve_after_days
    from ccops.content.snapshots import all_snapshots, approval
    from ccops.inventory.load import load_inventory

    inv = load_inventory(resolve_inventory(inventory))
    rows, docs = [], []
    for m in all_snapshots(inv):
        verdict = approval(m, approve_after_days(inv, m["site"]))
        count = sum(len(r["packages"]) for r in m["releases"].values())
        state = ("approved: " if verdict.how else "") + verdict.detail
        rows.append([m["id"], m["site"], ", ".join(m["releases"]), count, m["created"], state])
        docs.append({**m, "approved": bool(verdict.how), "approval_detail": verdict.detail})
    if output == "json":
        emit_json(docs)
        return
    echo(table(rows, ["SNAPSHOT", "SITE", "RELEASES", "PACKAGES", "CREATED", "APPROVAL"]))
