"""The site inventory model: sites, connection profiles and expanded hosts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypedDict

from ccops.inventory.variants import OS_VARIANTS

__all__ = ["OS_VARIANTS"]  # read from here by the inventory's readers; written once in variants.py
ROLES = (
    "agent_desktop",
    "supervisor_desktop",
    "acd_server",
    "cti_server",
    "ivr_server",
    "recording_server",
    "crm_server",
    "database_server",
    "file_server",
    "domain_controller",
    "distribution_point",
    "backup_server",
    "monitoring_server",
)
DESKTOP_ROLES = ("agent_desktop", "supervisor_desktop")
# planned: in the inventory, never contacted; active: in service;
# retiring: on its way out (inspected, not patched); retired: gone, kept for the record
LIFECYCLE_STATES = ("planned", "active", "retiring", "retired")
CONNECTION_TYPES = ("ssh", "winrm")


Source = tuple[str, int]  # file and line where a host is declared


class SecretRef(TypedDict, total=False):
    """Where a secret is looked up at run time: exactly one of the two keys."""

    env: str
    file: str


class ConnectionProfile(TypedDict, total=False):
    """A site's ``connections:`` entry as site_file checked it; absent keys were not given."""

    type: str | None  # None when the file's type was missing or unknown (reported as a problem)
    port: int
    user: str
    become: bool
    key_file: str
    known_hosts: str
    ca_file: str
    cert_file: str
    cert_key_file: str
    dns_domain: str
    transport: str | None
    cert_validation: str | None
    password: SecretRef | None
    become_password: SecretRef | None


# the profile keys that hold a SecretRef (Literal types let a loop index a ConnectionProfile)
SECRET_KEYS: tuple[Literal["password", "become_password"], ...] = ("password", "become_password")


class MaintenanceWindow(TypedDict):
    days: list[str]
    start: str | None  # None only in a site that failed validation
    end: str | None


class Endpoint(TypedDict, total=False):
    """A site service (distribution point, backup target): who offers it and where."""

    host: str
    path: str
    url: str


@dataclass(slots=True)
class Host:
    name: str
    site: str
    group: str
    role: str
    os: str
    business_line: str
    lifecycle: str
    connection: str
    address: str | None
    port: int | None
    asset_tag: str | None
    vars: dict[str, Any]
    source: Source
    mac: str | None = None  # the network card a new machine boots from: how ccops deploy knows it

    @property
    def os_family(self) -> str:
        return OS_VARIANTS[self.os]


@dataclass
class NodeSpec:
    """A site's execution node as its file names it: a host of the inventory, or an address
    reached with one of the site's ssh profiles. ``line`` is where the file says so."""

    host: str | None = None
    address: str | None = None
    port: int | None = None
    connection: str | None = None
    line: int = 1


@dataclass
class Site:
    code: str
    name: str
    city: str
    timezone: str
    file: str
    maintenance_windows: list[MaintenanceWindow] = field(default_factory=list)
    distribution_point: Endpoint = field(default_factory=Endpoint)
    backup_target: Endpoint = field(default_factory=Endpoint)
    # rollout, busy_check and decommission keep the site file's own keys (checked, not reshaped)
    rollout: dict[str, Any] = field(default_factory=dict)
    busy_check: dict[str, Any] = field(default_factory=dict)
    decommission: dict[str, Any] = field(default_factory=dict)  # max_hosts, end_state, hooks (site_file checks)
    risk: dict[str, float] = field(default_factory=dict)  # early-warning thresholds the site set
    patch_content: dict[str, Any] = field(default_factory=dict)  # approve_after_days (ccops content)
    quarantine: dict[str, Any] = field(default_factory=dict)  # when hosts are held apart (ccops.quarantine); {}: never
    remediate: dict[str, Any] = field(default_factory=dict)  # auto_approve {urgency: days}, unattended (site_file)
    connections: dict[str, ConnectionProfile] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    node: NodeSpec | None = None  # None: the jump host runs the site itself
    # what ccops comply enforces (inventory/policy.py checked them; ccops.inventory.compliance resolves them per host)
    management: list[str] = field(default_factory=list)  # addresses and networks administrators come from
    # the site's own networks and their gateways: neighbours seen there that no host is are unknown devices
    subnets: list[str] = field(default_factory=list)
    gateways: list[str] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    # every firewall deny entry as written: (where, line, network), for the lock-out check (inventory/lockout.py)
    denies: list[tuple[str, int, str]] = field(default_factory=list)


@dataclass
class Inventory:
    """Everything one inventory folder declares, hosts expanded and in file order."""

    root: Path
    config_file: Path
    files: list[Path]
    offline: bool
    sites: dict[str, Site]
    hosts: dict[str, Host]
    sites_dir: Path | None = None  # where the site files are looked for (ccops.yml's sites:)
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # values derived once per load

    def file_digests(self) -> dict[str, str]:
        """sha256 of each file that shapes the inventory now, by path relative to its root.

        Looks again at the sites folder, so a site file added since loading shows too.
        """
        folder = self.sites_dir or self.root / "sites"
        files = [self.config_file, *sorted({*folder.glob("*.yml"), *folder.glob("*.yaml")})]
        out: dict[str, str] = {}
        for path in files:
            name = str(path.relative_to(self.root))
            if not path.is_file():  # never open a pipe or a device that replaced a site file
                out[name] = "not a regular file"
                continue
            try:
                out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                out[name] = f"unreadable: {exc.strerror}"
        return out

    def digest(self) -> str:
        """sha256 over every file that shapes the inventory, for run records."""
        h = hashlib.sha256()
        for path in [self.config_file, *self.files]:
            h.update(str(path.relative_to(self.root)).encode())
            h.update(b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
        return h.hexdigest()

    def host(self, name: str) -> Host:
        from ccops.errors import CcopsError

        try:
            return self.hosts[name]
        except KeyError:
            raise CcopsError(f"no host {name!r} in inventory {self.root}") from None
