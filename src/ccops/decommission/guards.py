"""Decommissioning: the guards before anything is touched, what a plan shows, what a finished host leaves.

Guards (each refuses in one line, exit 5, before any host is contacted): every selected
host is ``retiring``; servers only with ``--include-servers``; no more hosts than the
sites' cap (``site.decommission.max_hosts``, 10 by default); the operator typed the exact
host names (or passed them with ``--confirm``); a Windows domain member has the
domain account that lets it leave the domain (``decommission_win_domain_user``, its
password in the controller's environment): without it the last step would fail after
the wipe. The playbook checks the lifecycle, the server flag, the confirmed names and
the domain leave again on each host, before its final backup.

After a host reports ``decommissioned``, ccops writes its certificate into the record
chain and sets ``lifecycle: retired`` with the date in its site file (inventory/writer.py).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ccops.decommission.certificate import build_certificate
from ccops.errors import CcopsError, RefusedError
from ccops.inventory.model import DESKTOP_ROLES, Host, Inventory
from ccops.inventory.select import Selector, select
from ccops.inventory.site_file import DEFAULT_DECOMMISSION_MAX_HOSTS
from ccops.inventory.writer import set_host_fields
from ccops.windows.checks import restore_card_problem
from ccops.windows.release import release_plan

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ccops.store.records import Store

VERB = "decommission"
DONE = "decommissioned"
# NIST SP 800-88 Rev. 1 "Clear" for files: overwrite the data with zeros, read it back, remove it
# the controller's environment variable holding the domain leave password (role default too)
PASSWORD_ENV = "CCOPS_DOMAIN_LEAVE_PASSWORD"  # noqa: S105 (a variable name, not a secret)
METHOD = "NIST SP 800-88 Rev. 1 Clear: overwrite with zeros, verified by read-back, then removed"


def guard(inventory: Inventory, selector: Selector, include_servers: bool) -> list[Host]:
    """The selected hosts if every guard but the confirmation passes; else RefusedError naming the first."""
    hosts = select(inventory, selector, None).hosts
    not_retiring = [h for h in hosts if h.lifecycle != "retiring"]
    if not_retiring:
        shown = ", ".join(f"{h.name} ({h.lifecycle})" for h in not_retiring[:5])
        raise RefusedError(
            f"decommission takes only hosts in state retiring; {shown}"
            + (f" and {len(not_retiring) - 5} more" if len(not_retiring) > 5 else "")
            + ": set lifecycle: retiring in the inventory first (reviewed), then select again"
        )
    servers = [h for h in hosts if h.role not in DESKTOP_ROLES]
    if servers and not include_servers:
        shown = ", ".join(f"{h.name} ({h.role})" for h in servers[:5])
        raise RefusedError(
            f"{len(servers)} server(s) selected ({shown}); decommissioning servers needs --include-servers"
        )
    cap = min(max_hosts(inventory, h.site) for h in hosts)
    if len(hosts) > cap:
        raise RefusedError(
            f"{len(hosts)} hosts selected, more than the {cap} one decommission run may take "
            "(site.decommission.max_hosts); select fewer hosts"
        )
    for host in hosts:
        check_restore_card(inventory, host)
        check_domain_leave(inventory, host, environ=os.environ)
    return hosts


def run_guard(inventory: Inventory, selector: Selector, options: Mapping[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """The registry's guard hook (Verb.guard): the hosts approved, and the options the run carries for them."""
    include_servers = bool(options.get("decommission_include_servers"))
    names = sorted(h.name for h in guard(inventory, selector, include_servers))
    return names, {"decommission_include_servers": include_servers, "decommission_confirmed": names}


def check_restore_card(inventory: Inventory, host: Host) -> None:
    problem = restore_card_problem(host, _merged(inventory, host))
    if problem:
        raise RefusedError(f"{problem}; nothing done")


def _merged(inventory: Inventory, host: Host) -> dict[str, Any]:
    return {**inventory.sites[host.site].vars, **host.vars}


def domain_member(inventory: Inventory, host: Host) -> bool:
    """Whether a Windows host is taken for a domain member: declared (decommission_win_domain_member),
    else what its connection says (Kerberos needs a domain). The play checks the seat itself again."""
    if host.os_family != "windows":
        return False
    declared = _merged(inventory, host).get("decommission_win_domain_member")
    if isinstance(declared, bool):
        return declared
    profile = inventory.sites[host.site].connections[host.connection]
    return (profile.get("transport") or "kerberos") == "kerberos"


def leave_account(inventory: Inventory, host: Host) -> str:
    """The domain account a domain member leaves the domain with; empty when none is configured."""
    user = _merged(inventory, host).get("decommission_win_domain_user")
    return user if isinstance(user, str) else ""


def check_domain_leave(inventory: Inventory, host: Host, environ: Mapping[str, str] | None = None) -> None:
    """Refuse a domain member ccops could not take out of its domain (microsoft.ad.membership needs
    a domain account and its password to leave): the plan (environ None) needs the account, a run
    also its password in the controller's environment."""
    if not domain_member(inventory, host):
        return
    user = leave_account(inventory, host)
    if not user:
        raise RefusedError(
            f"{host.name} is a Windows domain member and no domain account may take it out of the domain: "
            "set decommission_win_domain_user in the inventory (its password in CCOPS_DOMAIN_LEAVE_PASSWORD), "
            "or decommission_win_domain_member: false for a workgroup seat"
        )
    if environ is None:
        return
    variable = str(_merged(inventory, host).get("decommission_win_domain_password_env") or PASSWORD_ENV)
    if not variable.startswith("CCOPS_"):
        raise RefusedError(
            f"{host.name}: decommission_win_domain_password_env {variable[:60]!r} must start with CCOPS_ "
            "(ccops passes only CCOPS_* variables on to Ansible); nothing done"
        )
    if not environ.get(variable):
        raise RefusedError(
            f"{host.name} leaves its domain as {user}, but {variable} is not set in this shell; "
            "nothing done (export it, never put it in the inventory)"
        )


def max_hosts(inventory: Inventory, site: str) -> int:
    return int(inventory.sites[site].decommission.get("max_hosts", DEFAULT_DECOMMISSION_MAX_HOSTS))


def host_details(inventory: Inventory, host: Host) -> dict[str, Any]:
    """What a decommission does to one host, for the plan a reviewer approves. A domain member
    without a domain account to leave with is refused here already (RefusedError)."""
    check_restore_card(inventory, host)
    check_domain_leave(inventory, host)
    site = inventory.sites[host.site]
    merged = _merged(inventory, host)
    profile = site.connections[host.connection]
    member = domain_member(inventory, host)
    return {
        "final_backup": list(merged.get("backup_paths") or []),
        "revoke": {
            "hooks": list(site.decommission.get("hooks") or []),
            "accounts": list(merged.get("decommission_accounts") or []),
            "certificates": list(merged.get("decommission_certificates") or []),
            "domain": member,
            "domain_leave_as": leave_account(inventory, host) if member else None,
            # Windows: whose remote access the release removes; never the connection account's
            "logon_rights_of": release_plan(
                [str(a) for a in merged.get("decommission_win_release_accounts") or []],
                str(profile.get("user") or ""),
                [],
            )["accounts"]
            if host.os_family == "windows"
            else [],
            "ssh_keys_of": profile.get("user") if host.os_family == "debian" else None,
        },
        "wipe": {"paths": list(merged.get("decommission_data_paths") or []), "method": METHOD},
        "end_state": site.decommission.get("end_state", "power_off"),
        "inventory": f"{host.source[0]}: lifecycle retiring -> retired, retired_on",
    }


def after_batch(
    store: Store, inventory: Inventory, run_id: str, outcomes: list[Any], reports: dict[str, Any]
) -> tuple[list[str], set[Path]]:
    """Certificates and inventory edits for the hosts that finished: (problems, site files edited).

    Idempotent: a host that already has its certificate is left as it is (resume calls this again).
    The certificate is issued even when the site file cannot be edited; it then says so.
    """
    problems: list[str] = []
    edited: set[Path] = set()
    have = set(store.certificates(run_id))
    record = store.run(run_id)
    for outcome in outcomes:
        report = reports.get(outcome.host) or {}
        if outcome.outcome != "ok" or report.get("outcome") != DONE or outcome.host in have:
            continue
        host = inventory.hosts[outcome.host]
        today = datetime.now(UTC).date().isoformat()
        try:
            path = set_host_fields(inventory, host.name, {"lifecycle": "retired", "retired_on": today})
            edited.add(path)
            written = f"{host.source[0]}: lifecycle retired, retired_on {today}"
        except CcopsError as exc:
            written = f"NOT written: {exc}"
            problems.append(f"{host.name}: inventory not updated: {exc}")
        issued = datetime.now(UTC).isoformat(timespec="seconds")
        document = build_certificate(
            host,
            {**report, "inventory": written},
            run_id,
            record.operator if record else "?",
            record.change_id if record else None,
            issued,
        )
        store.add_certificate(run_id, host.name, document)
    return problems, edited
