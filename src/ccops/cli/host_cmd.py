"""ccops host show HOST: everything about one seat without walking to it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ccops.cli.options import inventory_option, output_option, resolve_inventory
from ccops.cli.output import emit_json, table, uptime
from ccops.errors import CcopsError

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
    from ccops.run import open_store

    store = open_store()
    asset = store.asset(name)
    model, _ = check_inventory(resolve_inventory(inventory))
    entry = model.hosts.get(name) if model else None
    if asset is None and entry is None:
        raise CcopsError(f"nothing known about {name!r}: not in the inventory and never inspected")
    history = store.host_history(name)
    if output == "json":
        emit_json({"host": name, "inventory": _entry(entry), "asset": asset, "runs": history})
        return
    click.echo(render(name, _entry(entry), asset, history, packages))


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
    image = rec.get("image") if isinstance(rec.get("image"), dict) else {}
    out += [
        f"   inspected {asset['collected']} (run {asset['run_id']})",
        "",
        f"OS        {os_info.get('distribution')} {os_info.get('version')} ({os_info.get('variant')}), "
        f"kernel {os_info.get('kernel')}",
        f"hardware  {hardware(hw)}",
        f"uptime    {uptime(rec.get('uptime_seconds'))}",
        f"packages  {(rec.get('packages') or {}).get('count')} installed",
        *([f"image     {image.get('name')} {image.get('version')} (golden image, ccops deploy)"] if image else []),
        f"updates   {updates.get('pending')} pending, {updates.get('security')} security",
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
