"""What a WinRM connection profile needs to connect at all, and the ansible_winrm_*
variables it becomes.

Kerberos asks the KDC for a ticket for HTTP/<the name ccops connects to>: the KDC
knows hosts by DNS name, never by IP address, so a Kerberos host is reached by its
DNS name (the host's ``dns_name``, or its name plus the profile's ``dns_domain``).
HTTPS listeners carry certificates from the site's internal CA that name that DNS
name: ``ca_file`` (a PEM bundle) names that CA, since the Python requests library
trusts its own bundle, not the machine's store. ``certificate``
authentication needs a client certificate and key; ``credssp`` and ``ntlm`` need a
user and a password, and credssp also the requests-credssp library.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ccops.inventory.model import ConnectionProfile

HTTP_PORT = 5985


def dns_name_of(profile: ConnectionProfile, host_name: str, dns_name: str | None) -> str | None:
    if dns_name:
        return dns_name
    domain = profile.get("dns_domain")
    return f"{host_name}.{domain}" if domain else None


def _is_ip(value: str | None) -> bool:
    try:
        ipaddress.ip_address(value or "")
    except ValueError:
        return False
    return True


def check_winrm_profile(
    profile: ConnectionProfile,
    host_name: str,
    address: str | None = None,
    dns_name: str | None = None,
    *,
    credssp_available: bool | None = None,
) -> list[str]:
    """Problems that keep this host's WinRM connection from ever working; empty when none."""
    problems = []
    transport = profile.get("transport", "kerberos")
    https = (profile.get("port") or 5986) != HTTP_PORT
    name = dns_name_of(profile, host_name, dns_name)
    if transport == "kerberos" and name is None and (address is None or _is_ip(address)):
        problems.append(
            f"{host_name}: kerberos needs the host's DNS name, not an IP address "
            "(set the profile's dns_domain or the host's dns_name)"
        )
    if transport == "kerberos" and name is not None and _is_ip(name):
        problems.append(f"{host_name}: kerberos needs a DNS name, {name} is an IP address")
    if transport in ("ntlm", "credssp") and not (profile.get("user") and profile.get("password")):
        problems.append(f"{host_name}: {transport} needs a user and a password")
    if transport == "credssp":
        if credssp_available is None:
            credssp_available = _credssp_installed()
        if not credssp_available:
            problems.append(f"{host_name}: credssp needs the requests-credssp library (pip install pywinrm[credssp])")
        if not https:
            problems.append(f"{host_name}: credssp needs an HTTPS listener (port 5986)")
    if transport == "certificate":
        if not (profile.get("cert_file") and profile.get("cert_key_file")):
            problems.append(f"{host_name}: certificate authentication needs cert_file and cert_key_file")
        if not https:
            problems.append(f"{host_name}: certificate authentication needs an HTTPS listener (port 5986)")
    return problems


def winrm_vars(
    profile: ConnectionProfile, host_name: str, address: str | None = None, dns_name: str | None = None
) -> dict[str, Any]:
    """The ansible_* variables of a WinRM host (secrets excluded: they are lookups made elsewhere)."""
    port = profile.get("port") or 5986
    name = dns_name_of(profile, host_name, dns_name)
    out: dict[str, Any] = {
        "ansible_connection": "winrm",
        "ansible_port": port,
        "ansible_winrm_scheme": "http" if port == HTTP_PORT else "https",
        "ansible_winrm_transport": profile.get("transport", "kerberos"),
        "ansible_winrm_server_cert_validation": profile.get("cert_validation", "validate"),
    }
    if name or address:
        out["ansible_host"] = name or address
    if profile.get("ca_file"):
        out["ansible_winrm_ca_trust_path"] = profile["ca_file"]
    if profile.get("transport") == "certificate":
        out["ansible_winrm_cert_pem"] = profile.get("cert_file")
        out["ansible_winrm_cert_key_pem"] = profile.get("cert_key_file")
    if profile.get("user") and profile.get("transport") != "certificate":
        out["ansible_user"] = profile["user"]
    return out


def _credssp_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("requests_credssp") is not None
