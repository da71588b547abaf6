"""The inventory as Ansible sees it: groups, group variables and host variables.

Both the Ansible inventory plugin and ``ccops inventory list`` call these
functions, so stock Ansible and ccops cannot disagree.
"""

from __future__ import annotations

import functools
import os
import shlex
from pathlib import Path
from typing import Any, Literal

from ccops.inventory.compliance import held_hosts, host_compliance
from ccops.inventory.layered import layered
from ccops.inventory.model import ConnectionProfile, Host, Inventory, Site
from ccops.inventory.winrm import dns_name_of

# The only templates ccops gives Ansible: constant text written here, never built from
# inventory data. A secret reference's name or path travels as a separate variable,
# which Ansible 2.19 treats as untrusted data: whatever it contains, it is never templated.
SECRET_LOOKUPS = {
    "env": "{{ lookup('ansible.builtin.env', %s) }}",
    "file": "{{ lookup('ansible.builtin.file', %s) }}",
}
SECRET_VARS = ("ansible_password", "ansible_become_password")


def secret_template(var: str, kind: str) -> str:
    """The constant template behind ``var``; its argument is the variable ``<var>_<kind>``."""
    return SECRET_LOOKUPS[kind] % f"ccops_secret_{var.removeprefix('ansible_')}_{kind}"


TRUSTED_TEMPLATES = frozenset(secret_template(v, k) for v in SECRET_VARS for k in SECRET_LOOKUPS)


def group_name(kind: str, value: str) -> str:
    return f"{kind}_{value.lower().replace('-', '_').replace('.', '_')}"


def site_group(site_code: str) -> str:
    return group_name("site", site_code)


def host_groups(host: Host, site: Site) -> list[str]:
    return list(_groups(site.code, site.city, host.role, host.os, host.os_family, host.business_line, host.lifecycle))


@functools.lru_cache(maxsize=4096)  # a fleet has few distinct combinations: computed once each, not per host
def _groups(site: str, city: str, role: str, os_name: str, family: str, line: str, state: str) -> tuple[str, ...]:
    return (
        site_group(site),
        group_name("city", city),
        group_name("role", role),
        group_name("os", os_name),
        group_name("family", family),
        group_name("line", line),
        group_name("state", state),
    )


def site_vars(site: Site) -> dict[str, Any]:
    # the site's own vars first: what ccops computes always wins (validation also
    # refuses ansible_* and ccops_* names in vars)
    return {
        **site.vars,
        "ccops_site": site.code,
        "ccops_site_name": site.name,
        "ccops_city": site.city,
        "ccops_timezone": site.timezone,
        "ccops_maintenance_windows": site.maintenance_windows,
        "ccops_distribution_point": site.distribution_point,
        "ccops_backup_target": site.backup_target,
        "ccops_busy_check": site.busy_check,
        "ccops_decommission": site.decommission,
        # the addresses administrators and ccops come from: the Windows fix refuses rules that shut them out
        "ccops_management": site.management,
    }


def host_vars(inventory: Inventory, host: Host) -> dict[str, Any]:
    own, connection = host_var_layers(inventory, host)
    return {**own, **connection}


def host_var_layers(inventory: Inventory, host: Host) -> tuple[dict[str, Any], dict[str, Any]]:
    """A host's own variables, and its connection's (shared by every host of the profile: never change it)."""
    site = inventory.sites[host.site]
    out: dict[str, Any] = {
        **host.vars,
        "ccops_role": host.role,
        "ccops_os": host.os,
        "ccops_os_family": host.os_family,
        "ccops_business_line": host.business_line,
        "ccops_lifecycle": host.lifecycle,
        "ccops_group": host.group,
    }
    if host.asset_tag is not None:
        out["ccops_asset_tag"] = host.asset_tag
    if host.mac is not None:
        out["ccops_mac"] = host.mac
    # what hosts of one site and group share is computed once per inventory: 32,000 hosts, few groups
    comply_key = (host.site, host.role, host.os, host.group, host.business_line, host.name in held_hosts(inventory))
    comply_cache: dict[tuple[Any, ...], Any] = inventory.cache.setdefault("export_comply", {})
    if comply_key not in comply_cache:
        comply_cache[comply_key] = host_compliance(inventory, host)
    comply = comply_cache[comply_key]
    if comply is not None:
        out["ccops_comply"] = comply
    if host.address is not None:
        out["ansible_host"] = host.address
    profile = site.connections[host.connection]
    if profile["type"] == "winrm" and profile.get("dns_domain"):
        # Kerberos and the listener's certificate know the host by DNS name, not by address
        out["ansible_host"] = dns_name_of(profile, host.name, None)
    connection_cache: dict[tuple[str, str, int | None], Any] = inventory.cache.setdefault("export_connection", {})
    connection_key = (host.site, host.connection, host.port)
    if connection_key not in connection_cache:
        connection_cache[connection_key] = connection_vars(inventory.root, profile, host.port)
    return out, connection_cache[connection_key]


# (Ansible variable, profile key) pairs; Literal keys let a loop index the ConnectionProfile
_WINRM_FILES: tuple[tuple[str, Literal["ca_file", "cert_file", "cert_key_file"]], ...] = (
    ("ansible_winrm_ca_trust_path", "ca_file"),
    ("ansible_winrm_cert_pem", "cert_file"),
    ("ansible_winrm_cert_key_pem", "cert_key_file"),
)
_SECRETS: tuple[tuple[str, Literal["password", "become_password"]], ...] = (
    ("ansible_password", "password"),
    ("ansible_become_password", "become_password"),
)


def connection_vars(root: Path, profile: ConnectionProfile, port: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"ansible_connection": profile["type"]}
    port = port or profile.get("port")
    if port is not None:
        out["ansible_port"] = port
    if "user" in profile:
        out["ansible_user"] = profile["user"]
    if profile["type"] == "winrm":
        out["ansible_winrm_scheme"] = "http" if port == 5985 else "https"
        out["ansible_winrm_transport"] = profile["transport"]
        out["ansible_winrm_server_cert_validation"] = profile["cert_validation"]
        for var, key in _WINRM_FILES:
            if key in profile:
                out[var] = inventory_path(root, profile[key])
    else:
        if "key_file" in profile:
            out["ansible_ssh_private_key_file"] = inventory_path(root, profile["key_file"])
        # Host keys are always checked: ccops forces host_key_checking on for every run, and
        # StrictHostKeyChecking=yes here also holds for stock Ansible run by hand. Ansible splits
        # this string like a shell line: every value in it is quoted.
        args = ["-o", "StrictHostKeyChecking=yes"]
        if "known_hosts" in profile:
            args[:0] = ["-o", f"UserKnownHostsFile={inventory_path(root, profile['known_hosts'])}"]
        out["ansible_ssh_common_args"] = shlex.join(args)
        if profile.get("become"):
            out["ansible_become"] = True
            out["ansible_become_method"] = "sudo"
    for var, secret in _SECRETS:
        ref = profile.get(secret)
        if ref:
            # validation left exactly one key: env or file
            kind, value = ("env", ref["env"]) if "env" in ref else ("file", ref["file"])
            out[var] = secret_template(var, kind)
            out[f"ccops_secret_{secret}_{kind}"] = value if kind == "env" else inventory_path(root, value)
    return out


def inventory_path(root: Path, value: str) -> str:
    """A path from a site file: ~ expanded, relative to the inventory folder, symlinks kept as named."""
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else os.path.abspath(root / path))  # noqa: PTH100 (no symlink resolution)


def to_ansible_list(inventory: Inventory, hosts: list[Host] | None = None) -> dict[str, Any]:
    """The document ``ansible-inventory --list`` prints for the same hosts."""
    selected = list(inventory.hosts.values()) if hosts is None else hosts
    groups: dict[str, list[str]] = {}
    hostvars: dict[str, dict[str, Any]] = {}
    site_cache = {code: site_vars(site) for code, site in inventory.sites.items()}
    for host in selected:
        site = inventory.sites[host.site]
        for group in host_groups(host, site):
            groups.setdefault(group, []).append(host.name)
        hostvars[host.name] = layered(site_cache[host.site], *host_var_layers(inventory, host), own=1)
    out: dict[str, Any] = {"_meta": {"hostvars": hostvars}, "all": {"children": ["ungrouped", *sorted(groups)]}}
    for group in sorted(groups):
        out[group] = {"hosts": groups[group]}
    return out


SNAPSHOT_SUFFIX = ".ccops-snapshot.json"


def snapshot(inventory: Inventory, hosts: list[Host]) -> dict[str, Any]:
    """The validated inventory of a run's hosts, frozen when the run was planned.

    Every batch's Ansible reads its own part of it (batch_snapshot, through the ccops plugin)
    instead of the site files: the inventory is validated once per run, and an edit made while the run goes
    on cannot change what later batches do. The plugin trusts nothing in it but ccops's
    constant templates, exactly as for the site files.
    """
    groups: dict[str, dict[str, Any]] = {}
    out_hosts: dict[str, dict[str, Any]] = {}
    for host in hosts:
        site = inventory.sites[host.site]
        names = host_groups(host, site)
        groups.setdefault(names[0], {"vars": site_vars(site)})
        for name in names[1:]:
            groups.setdefault(name, {"vars": {}})
        out_hosts[host.name] = {"groups": names, "vars": host_vars(inventory, host)}
    return {"ccops_snapshot": 1, "inventory": str(inventory.root), "groups": groups, "hosts": out_hosts}


def batch_snapshot(whole: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """The part of a run's snapshot one batch reads: its hosts and the groups they are in, nothing else.

    A batch's Ansible then parses what the batch touches, not the whole run, so a run's
    controller cost grows with its hosts, not with hosts times batches.
    """
    hosts = {name: whole["hosts"][name] for name in names}
    used = {group for body in hosts.values() for group in body["groups"]}
    groups = {name: body for name, body in whole["groups"].items() if name in used}
    return {**whole, "groups": groups, "hosts": hosts}
