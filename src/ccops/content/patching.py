"""ccops patch from approved content: the patch verb's content hook.

A site patches from approved content when it has an approved snapshot (the
newest one is taken), or when ``--snapshot ID`` names one. Then its Debian
hosts refresh, simulate and install from that snapshot on the site's point
alone (roles/patch/tasks/content_debian.yml), and the plan lists per host the
exact versions it receives. A snapshot that is not approved, not staged, of
another site or without the host's release is refused before any host is
touched (exit 5). A resume keeps the snapshots its plan named.
"""

from __future__ import annotations

from typing import Any

from ccops.content.snapshots import all_snapshots, approval, load, point_prefix
from ccops.inventory.model import Host, Inventory
from ccops.software.points import key_files


def approve_after_days(inventory: Inventory, site: str) -> int | None:
    """The site's rule (site_file checked it): a snapshot this many days old counts as approved."""
    found = inventory.sites.get(site)
    days = found.patch_content.get("approve_after_days") if found is not None else None
    return days if isinstance(days, int) else None


def newest_approved(inventory: Inventory, site: str) -> dict[str, Any] | None:
    rule = approve_after_days(inventory, site)
    # a remediation snapshot (ccops remediate) holds only some fixes: never a site's default content
    found = [
        m for m in all_snapshots(inventory) if m["site"] == site and not m.get("remediate") and approval(m, rule).how
    ]
    return max(found, key=lambda m: m["created"], default=None)


def patch_content(
    inventory: Inventory, hosts: list[Host], options: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    requested = options.get("content_snapshot") or None
    previous = options.get("patch_content") or {}  # a resume: the snapshots the approved plan named
    sites = sorted({h.site for h in hosts if h.os_family == "debian"})
    chosen: dict[str, dict[str, Any]] = {}
    refusals: list[str] = []
    if requested:
        manifest = load(inventory, str(requested))
        chosen[manifest["site"]] = manifest
        for other in (s for s in sites if s != manifest["site"]):
            refusals.append(f"snapshot {manifest['id']} is site {manifest['site']}'s; hosts of site {other} "
                            "are selected (select one site: --site)")  # fmt: skip
    else:
        for site in sites:
            earlier = previous.get(site)
            found = load(inventory, earlier["id"]) if earlier else newest_approved(inventory, site)
            if found is not None:
                chosen[site] = found
    if not chosen:
        return {}, {}
    per_host: dict[str, Any] = {}
    for site, manifest in chosen.items():
        verdict = approval(manifest, approve_after_days(inventory, site))
        if not verdict.how:
            refusals.append(
                f"snapshot {manifest['id']} (site {site}) is {verdict.detail}: nothing installs from it until "
                f"ccops content approve {manifest['id']} --change-id ID"
            )
        if site not in inventory.sites or not inventory.sites[site].distribution_point.get("url"):
            refusals.append(f"site {site} declares no distribution_point.url to patch from")
        for host in (h for h in hosts if h.site == site and h.os_family == "debian"):
            if host.os not in manifest["releases"]:
                refusals.append(f"snapshot {manifest['id']} holds nothing for {host.os} (host {host.name}): "
                                "take a new snapshot")  # fmt: skip
            per_host[host.name] = {
                "snapshot": manifest["id"],
                "approved": verdict.detail if verdict.how else "NOT APPROVED",
                "packages": host_packages(manifest, host),
            }
    extravars = {
        "patch_content": {site: {"id": m["id"], "path": point_prefix(m["id"])} for site, m in chosen.items()},
        "patch_content_key_file": str(key_files(inventory).public),
    }
    return extravars, {"patch_content": per_host, "refusals": refusals}


def host_packages(manifest: dict[str, Any], host: Host) -> list[dict[str, str]]:
    """What the host needed from the snapshot when it was taken, at the snapshot's versions."""
    record = manifest.get("hosts", {}).get(host.name) or {}
    return [
        {"package": name, "from": entry["from"], "to": entry["to"]}
        for name, entry in sorted((record.get("packages") or {}).items())
    ]
