"""ccops host show HOST: everything about one seat without walking to it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ccops.cli.options import inventory_option, output_option, resolve_inventory
from ccops.cli.output import echo, emit_json, table, uptime
from ccops.errors import CcopsError, UsageError

if TYPE_CHECKING:  # imported where used: ccops --help must not load it
    from ccops.inventory.model import Host


@click.group()
def host() -> None:
    """Read what ccops knows about one host."""


@host.command()
@click.argument("name", metavar="HOST")
@inventory_option
@click.option("--packages", is_flag=True, help="List every installed package.")
@output_option()
def show(name: str, inventory: Path | None, packages: bool, output: str) -> None:
    """The host's inventory entry, its last asset record and its recent runs."""
    from ccops.inventory.load import check_inventory
    from ccops.report.reverted import findings, show_lines
    from ccops.run import open_store

    store = open_store()
    asset = store.asset(name)
    model, _ = check_inventory(resolve_inventory(inventory))
    entry = model.hosts.get(name) if model else None
    if asset is None and entry is None:
        raise UsageError(f"no host {name!r}: not in the inventory and never inspected")
    history = store.host_history(name)
    versions = [v for v in store.asset_versions(name) if v["whole"]]
    changes = _changes(store, name, versions[1], versions[0]) if len(versions) > 1 else None
    compliance = store.compliance(name).get(name)
    reverted = next(iter(findings(store, [name])), None)
    if output == "json":
        emit_json(
            {
                "host": name,
                "inventory": _entry(entry),
                "asset": asset,
                "compliance": compliance,
                "reverted": reverted.as_dict() if reverted else None,
                "changes": changes,
                "versions": [{"run_id": v["run_id"], "collected": v["collected"]} for v in versions],  # whole ones
                "runs": history,
            }
        )
        return
    echo(render(name, _entry(entry), asset, history, packages))
    echo("\n" + "\n".join(_compliance_lines(compliance)))
    echo("\n" + "\n".join(_changes_lines(changes, len(versions))))
    echo("\n" + "\n".join(show_lines(reverted)))


@host.command()
@click.argument("name", metavar="HOST")
@click.option(
    "--since",
    metavar="WHEN|RUN",
    help="Compare with the inspection at or before WHEN (2026-11-20, 2026-11-20T06:00, 3d, 12h; UTC) "
    "or the one RUN made. Default: the previous inspection.",
)
@inventory_option
@output_option()
def diff(name: str, since: str | None, inventory: Path | None, output: str) -> None:
    """What changed on HOST since an earlier inspection: packages, updates, disks, services, policy, uptime."""
    from ccops.report.asset_diff import render as render_diff
    from ccops.run import open_store

    store = open_store()
    versions = [v for v in store.asset_versions(name) if v["whole"]]  # a diff needs whole records
    if not versions:
        if _unknown(name, inventory):
            raise UsageError(f"no host {name!r}: not in the inventory and never inspected")
        raise CcopsError(f"{name!r} was never inspected: run ccops inspect --limit {name}")
    if len(versions) < 2 and since is None:
        raise CcopsError(f"{name!r} has one inspection ({versions[0]['collected']}): nothing to compare with yet")
    older, note = _pick_since(store, name, versions, since)
    changes = _changes(store, name, older, versions[0])
    if note:
        changes["note"] = note
    if output == "json":
        emit_json({"host": name, **changes})
        return
    lines = [
        f"== {name}: {changes['from']['collected']} (run {changes['from']['run_id']})"
        f" -> {changes['to']['collected']} (run {changes['to']['run_id']})"
    ]
    lines += [note] if note else []
    lines += render_diff(changes) or ["no change"]
    echo("\n".join(lines))


def _unknown(name: str, inventory: Path | None) -> bool:
    """Neither inventory nor store knows ``name`` (an unreadable inventory knows no host)."""
    from ccops.inventory.load import check_inventory

    model, _ = check_inventory(resolve_inventory(inventory))
    return model is None or name not in model.hosts


def _changes(store: Any, name: str, older: dict[str, Any], newer: dict[str, Any]) -> dict[str, Any]:
    from ccops.report.asset_diff import diff as asset_diff

    old, new = store.asset_version(name, older["run_id"]), store.asset_version(name, newer["run_id"])
    for version in (old, new):
        if version is None or version.get("damaged"):
            raise CcopsError(f"{name}: the inspection kept for run {(version or older)['run_id']} cannot be read")
    return asset_diff(old, new)


def _pick_since(
    store: Any, name: str, versions: list[dict[str, Any]], since: str | None
) -> tuple[dict[str, Any], str | None]:
    """The older side of a diff, and a note when it is not exactly what was asked for."""
    if since is None:
        return versions[1], None
    when = parse_when(since)
    if when is None:
        run = store.resolve_run(since)
        for version in versions:
            if version["run_id"] == run.id:
                return version, None
        raise CcopsError(
            f"run {run.id} has no inspection of {name} kept; see ccops host show {name} -o json (versions)"
        )
    for version in versions:
        collected = _aware(version["collected"])
        if collected is not None and collected <= when:
            return version, None
    oldest = versions[-1]
    return oldest, f"note: no inspection at or before {when.isoformat()} is kept; compared with the oldest kept"


def _aware(value: str) -> Any:
    from datetime import UTC, datetime

    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def parse_when(text: str) -> Any:
    """A time from --since: 3d / 12h / 30m / 2w ago, or an ISO date or time (UTC unless it says otherwise).

    None when ``text`` is neither (then it names a run).
    """
    import re
    from datetime import UTC, datetime, timedelta

    relative = re.fullmatch(r"(\d{1,5})([mhdw])", text.strip())
    if relative:
        unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[relative.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: int(relative.group(1))})
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?", text.strip()):
        when = _aware(text.strip().replace("Z", "+00:00"))
        if when is None:
            raise CcopsError(f"--since {text!r}: not a date or time (e.g. 2026-11-20 or 2026-11-20T06:00)")
        return when
    return None


def _compliance_lines(compliance: dict[str, Any] | None) -> list[str]:
    if compliance is None:
        return ["compliance: never checked (ccops comply --check)"]
    deviations = compliance["deviations"]
    head = f"compliance: checked {compliance['checked']} (run {compliance['run_id']}): "
    if not deviations:
        return [head + "in policy"]
    return [head + f"OUT OF POLICY, {len(deviations)} deviation(s)"] + [
        f"   {d['policy']}: {d['detail']}" for d in deviations
    ]


def _changes_lines(changes: dict[str, Any] | None, kept: int) -> list[str]:
    from ccops.report.asset_diff import change_count
    from ccops.report.asset_diff import render as render_diff

    if changes is None:
        return ["changes: none to show yet (one inspection kept); ccops host diff needs two"]
    count = change_count(changes)
    head = f"changes since the previous inspection ({changes['from']['collected']}, {kept} kept): "
    return [head + (f"{count}" if count else "none")] + [f"   {line}" for line in render_diff(changes, limit=10)]


def _entry(entry: Host | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "site": entry.site,
        "role": entry.role,
        "os": entry.os,
        "business_line": entry.business_line,
        "lifecycle": entry.lifecycle,
        "asset_tag": entry.asset_tag,
        "address": entry.address if entry.port is None else f"{entry.address}:{entry.port}",
    }


# what Ansible's facts and DMI report when a value is not known (containers, some VMs, white boxes)
UNKNOWN = {"", "na", "n/a", "none", "unknown", "not specified", "to be filled by o.e.m.", "default string"}


def _known(value: object) -> object | None:
    return None if value is None or str(value).strip().lower() in UNKNOWN else value


def hardware(hw: dict[str, Any]) -> str:
    """Only what is known: 'QEMU Standard PC, 2 CPU, 1987 MB RAM, virtualization kvm' or less."""
    model = " ".join(str(v) for v in (_known(hw.get("vendor")), _known(hw.get("product"))) if v)
    parts = [
        model,
        f"{hw['cpus']} CPU" if _known(hw.get("cpus")) else "",
        f"{hw['memory_mb']} MB RAM" if _known(hw.get("memory_mb")) else "",
        f"virtualization {hw['virtualization']}" if _known(hw.get("virtualization")) else "",
    ]
    return ", ".join(p for p in parts if p) or "not known"


def _damaged_lines(damaged: list[str]) -> list[str]:
    """What the host reported that did not fit its shape: left out of this record, named here."""
    if not damaged:
        return []
    return [f"   damaged: {len(damaged)} field(s) of this inspection did not fit and were left out:"] + [
        f"     {note}" for note in damaged
    ]


def render(
    name: str, entry: dict[str, Any] | None, asset: dict[str, Any] | None, history: list[dict[str, Any]], packages: bool
) -> str:
    out = [f"== {name}"]
    if entry:
        out.append("   " + "  ".join(f"{k}: {v}" for k, v in entry.items() if v is not None))
    if asset is None:
        out.append("   no asset record yet: run ccops inspect --limit " + name)
        return "\n".join(out)
    rec = asset["record"]
    os_info, hw = rec.get("os") or {}, rec.get("hardware") or {}
    updates = rec.get("updates") or {}
    level = rec.get("patch_level") or {}
    since = f", oldest security update pending since {level['security_since']}" if level.get("security_since") else ""
    image = rec.get("image") if isinstance(rec.get("image"), dict) else {}
    damaged = rec.get("damaged") or []
    out += [
        f"   inspected {asset['collected']} (run {asset['run_id']})",
        *_damaged_lines(damaged),
        "",
        f"OS        {os_info.get('distribution')} {os_info.get('version')} ({os_info.get('variant')}), "
        f"kernel {os_info.get('kernel')}",
        f"hardware  {hardware(hw)}",
        f"uptime    {uptime(rec.get('uptime_seconds'))}",
        f"packages  {(rec.get('packages') or {}).get('count')} installed",
        *([f"image     {image.get('name')} {image.get('version')} (golden image, ccops deploy)"] if image else []),
        f"updates   {updates.get('pending')} pending, {updates.get('security')} security{since}",
        "",
    ]
    for item in (updates.get("items") or [])[:20]:
        out.append(
            f"   {'SEC ' if item.get('security') else '    '}{item.get('name')} {item.get('from')} -> {item.get('to')}"
        )
    disks = [
        [d.get("mount"), d.get("size_mb"), d.get("free_mb"), f"{d.get('used_pct')}%"] for d in rec.get("disks") or []
    ]
    out += ["", table(disks, ["MOUNT", "SIZE MB", "FREE MB", "USED"]), ""]
    services = [[s.get("name"), s.get("state"), s.get("status")] for s in rec.get("services") or []]
    out += [table(services, ["SERVICE", "STATE", "START"]), "", "recent log lines (warnings and worse):"]
    out += [f"   {line}" for line in (rec.get("logs") or [])[-15:]] or ["   none"]
    if packages:
        out += ["", "installed packages:"]
        out += [f"   {n} {v}" for n, v in sorted(((rec.get("packages") or {}).get("items") or {}).items())]
    if history:
        out += [
            "",
            table(
                [[h["run_id"], h["verb"], h["outcome"], h["ended"] or "", h["message"] or ""] for h in history],
                ["RUN", "VERB", "RESULT", "ENDED", "MESSAGE"],
            ),
        ]
    return "\n".join(out)
