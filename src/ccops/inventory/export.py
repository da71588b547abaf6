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
COMPLY = "ccops_comply"


def secret_template(var: str, kind: str) -> str:
    """The constant template behind ``var``; its argument is the variable ``<var>_<kind>``."""
    return SECRET_LOOKUPS[kind] % f"ccops_secret_{var.removeprefix('ansible_')}_{kind}"


TRUSTED_TEMPLATES = frozenset(secret_template(v, k) for v in SECRET_VARS for k in SECRET_LOOKUPS)


def group_name(kind: str, value: str) -> str:
    return f"{kind}_{value.lower().replace('-', '_').replace('.', '_')}"


def site_group(site_code: str) -> str:
    return group_name("site", site_code)


def host_groups(host: Host, site: Site) -> list[str]:
    return list(_group_names(host, site))


def _group_names(host: Host, site: Site) -> tuple[str, ...]:
    return _groups(site.code, site.city, host.role, host.os, host.os_family, host.business_line, host.lifecycle)


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
    own, traits, comply, connection = host_var_layers(inventory, host)
    return {**own, **traits, **comply, **connection}


Layers = tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]
TRAIT_NAMES = ("ccops_role", "ccops_os", "ccops_os_family", "ccops_business_line", "ccops_lifecycle", "ccops_group")
OWN_NAMES = ("ccops_asset_tag", "ccops_mac", "ansible_host")  # with the host's own vars


def host_var_layers(inventory: Inventory, host: Host) -> Layers:
    """A host's variables in layers, a later one winning a name two hold: its own (a new dict), its
    traits (TRAIT_NAMES), its compliance policy and its connection's. The last three are each shared by
    many hosts, computed once per inventory (32,000 hosts, few combinations): never change them."""
    return all_var_layers(inventory, [host])[0]


def all_var_layers(inventory: Inventory, hosts: list[Host]) -> list[Layers]:
    """host_var_layers of each host, the inventory's caches looked up once for all of them."""
    cache = inventory.cache
    traits_cache: dict[tuple[str, ...], dict[str, Any]] = cache.setdefault("export_traits", {})
    comply_cache: dict[tuple[Any, ...], dict[str, Any]] = cache.setdefault("export_comply", {})
    connection_cache: dict[tuple[str, str, int | None], dict[str, Any]] = cache.setdefault("export_connection", {})
    held = held_hosts(inventory)
    sites = inventory.sites
    out: list[Layers] = []
    for host in hosts:
        site = sites[host.site]
        own: dict[str, Any] = {**host.vars}
        if host.asset_tag is not None:
            own["ccops_asset_tag"] = host.asset_tag
        if host.mac is not None:
            own["ccops_mac"] = host.mac
        if host.address is not None:
            own["ansible_host"] = host.address
        profile = site.connections[host.connection]
        if profile["type"] == "winrm" and profile.get("dns_domain"):
            # Kerberos and the listener's certificate know the host by DNS name, not by address
            own["ansible_host"] = dns_name_of(profile, host.name, None)
        traits_key = (host.role, host.os, host.business_line, host.lifecycle, host.group)
        traits = traits_cache.get(traits_key)
        if traits is None:
            values = (host.role, host.os, host.os_family, host.business_line, host.lifecycle, host.group)
            traits = traits_cache[traits_key] = dict(zip(TRAIT_NAMES, values, strict=True))
        comply_key = (host.site, host.role, host.os, host.group, host.business_line, host.name in held)
        comply = comply_cache.get(comply_key)
        if comply is None:
            policy = host_compliance(inventory, host)
            comply = comply_cache[comply_key] = {} if policy is None else {COMPLY: policy}
        connection_key = (host.site, host.connection, host.port)
        connection = connection_cache.get(connection_key)
        if connection is None:
            connection = connection_cache[connection_key] = connection_vars(inventory.root, profile, host.port)
        out.append((own, traits, comply, connection))
    return out


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
    """What ``ansible-inventory --list`` gives the same hosts, each value a site shares written once.

    Ansible's inventory document has group variables: a site group's ``vars`` hold its settings
    and whatever else every listed host of the site shares (its compliance policy, its connection
    profile's variables); ``_meta.hostvars`` keeps the rest. Site groups partition the hosts
    and a host's own variables win over its groups', so Ansible merges for every host exactly
    the variables ``ccops inventory show`` lists: 32,000 hosts no longer repeat their site's.
    """
    selected = list(inventory.hosts.values()) if hosts is None else hosts
    layers = all_var_layers(inventory, selected)
    groups: dict[str, list[str]] = {}
    # a host's site and traits (one object per role, OS, line, state and group) -> its groups' host lists
    lists: dict[tuple[str, int], tuple[list[str], ...]] = {}
    shares: dict[str, _Shares] = {}
    for host, (own, traits, comply, connection) in zip(selected, layers, strict=True):
        into = lists.get((host.site, id(traits)))
        if into is None:
            names = _group_names(host, inventory.sites[host.site])
            into = lists[host.site, id(traits)] = tuple(groups.setdefault(name, []) for name in names)
        for members in into:
            members.append(host.name)
        shared = shares.get(host.site)
        if shared is None:
            shares[host.site] = _Shares(comply, connection, host.vars, own)
        elif comply is not shared.comply or connection is not shared.connection or host.vars:  # (else: alike)
            shared.add(comply, connection, host.vars, own)
    # in host_vars' order (a later layer wins): the site's, then compliance, then connection; one group a
    # site (validation refuses two site codes that differ only in case, which would name one group)
    group_vars = {
        site_group(code): {**site_vars(inventory.sites[code]), **(shared.comply or {}), **(shared.connection or {})}
        for code, shared in shares.items()
    }
    hostvars = _host_entries(selected, layers, shares)
    out: dict[str, Any] = {"_meta": {"hostvars": hostvars}, "all": {"children": ["ungrouped", *sorted(groups)]}}
    for group in sorted(groups):
        out[group] = {"hosts": groups[group]}
        if group in group_vars:
            out[group]["vars"] = group_vars[group]
    return out


_EMPTY: dict[str, Any] = {}


def _host_entries(selected: list[Host], layers: list[Layers], shares: dict[str, _Shares]) -> dict[str, dict[str, Any]]:
    """Each host's _meta.hostvars entry: its variables but those its site group carries."""
    hostvars: dict[str, dict[str, Any]] = {}
    # the layers hosts share, merged once per combination (each lives in inventory.cache: its id stays its own)
    combined: dict[tuple[int, int, int], dict[str, Any]] = {}
    for host, (own, traits, host_comply, host_connection) in zip(selected, layers, strict=True):
        shared = shares[host.site]
        comply = _EMPTY if shared.comply else host_comply
        connection = _EMPTY if shared.connection else host_connection
        key = (id(traits), id(comply), id(connection))
        common = combined.get(key)
        if common is None:
            common = combined[key] = {**traits, **comply, **connection}
        # a Layered dict: a writer that knows it writes the shared layer's text once, not once per host
        hostvars[host.name] = layered(own, common, own=0)
    return hostvars


class _Shares:
    """What every listed host of a site has alike, so its group's vars can carry it (else None)."""

    def __init__(self, comply: dict[str, Any], connection: dict[str, Any], own_vars: object, own: dict[str, Any]):
        self.comply: dict[str, Any] | None = comply or None
        # the connection's names are none of the others' (then a host's own layers cannot override them)
        apart = connection.keys().isdisjoint(TRAIT_NAMES) and connection.keys().isdisjoint(OWN_NAMES)
        self.connection: dict[str, Any] | None = connection if apart and COMPLY not in connection else None
        self.add(comply, connection, own_vars, own)

    def add(self, comply: dict[str, Any], connection: dict[str, Any], own_vars: object, own: dict[str, Any]) -> None:
        # a layer moves to the group when every host has it alike and none keeps one of its names in a
        # layer of its own (the host's would then win over the group's, where in host_vars the later wins)
        if self.comply is not None and comply is not self.comply and comply != self.comply:
            self.comply = None
        if self.connection is not None and connection is not self.connection and connection != self.connection:
            self.connection = None
        if own_vars:  # site-file vars (validation refuses ccops_ and ansible_ names, but a clash stays exact)
            if self.comply is not None and not self.comply.keys().isdisjoint(own):
                self.comply = None
            if self.connection is not None and not self.connection.keys().isdisjoint(own):
                self.connection = None


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
