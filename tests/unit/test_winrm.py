"""WinRM profiles: what cannot connect is refused; what can becomes ansible_winrm_* variables."""

import pytest

from ccops.errors import CcopsError
from ccops.inventory.winrm import check_winrm_profile, winrm_vars

KERBEROS = {
    "type": "winrm",
    "port": 5986,
    "transport": "kerberos",
    "user": "svc-ccops@CC.EXAMPLE",
    "dns_domain": "shapd.cc.example",
    "ca_file": "/etc/ccops/cc-root-ca.pem",
}


def test_a_kerberos_profile_with_a_dns_domain_and_a_ca_connects_by_name():
    assert check_winrm_profile(KERBEROS, "shapd-aw0-t0001", "10.21.0.10") == []
    got = winrm_vars(KERBEROS, "shapd-aw0-t0001", "10.21.0.10")
    assert got["ansible_host"] == "shapd-aw0-t0001.shapd.cc.example"
    assert got["ansible_winrm_ca_trust_path"] == "/etc/ccops/cc-root-ca.pem"
    assert got["ansible_winrm_transport"] == "kerberos" and got["ansible_winrm_scheme"] == "https"


def test_kerberos_to_an_ip_address_is_refused():
    profile = {k: v for k, v in KERBEROS.items() if k != "dns_domain"}
    problems = check_winrm_profile(profile, "shapd-aw0-t0001", "10.21.0.10")
    assert problems == [
        "shapd-aw0-t0001: kerberos needs the host's DNS name, not an IP address "
        "(set the profile's dns_domain or the host's dns_name)"
    ]
    assert check_winrm_profile(profile, "shapd-aw0-t0001", "10.21.0.10", dns_name="t0001.cc.example") == []


def test_the_sites_ca_becomes_the_trust_path_and_is_optional():
    profile = {k: v for k, v in KERBEROS.items() if k != "ca_file"}
    assert check_winrm_profile(profile, "h1", "10.0.0.1") == []
    assert "ansible_winrm_ca_trust_path" not in winrm_vars(profile, "h1", "10.0.0.1")


def test_credssp_and_certificate_without_what_they_need_are_refused():
    credssp = {**KERBEROS, "transport": "credssp", "user": None}
    problems = check_winrm_profile(credssp, "h1", credssp_available=False)
    assert any("credssp needs a user and a password" in p for p in problems)
    assert any("requests-credssp" in p for p in problems)
    cert = {**KERBEROS, "transport": "certificate", "port": 5985}
    problems = check_winrm_profile(cert, "h1")
    assert any("cert_file and cert_key_file" in p for p in problems)
    assert any("HTTPS listener" in p for p in problems)
    good = {
        **KERBEROS,
        "transport": "certificate",
        "cert_file": "/etc/ccops/c.pem",
        "cert_key_file": "/etc/ccops/k.pem",
    }
    assert check_winrm_profile(good, "h1") == []
    assert winrm_vars(good, "h1")["ansible_winrm_cert_pem"] == "/etc/ccops/c.pem"


def test_validate_refuses_kerberos_to_addresses_and_exports_dns_names(tmp_path):
    from ccops.inventory.export import host_vars
    from ccops.inventory.load import load_inventory
    from tests.conftest import write_inventory

    site = """\
    site: {code: win, city: testcity, timezone: UTC}
    connections:
      winrm: {type: winrm, port: 5986, transport: kerberos, user: svc@CC.EXAMPLE%s}
    groups:
      - {name: seats, role: agent_desktop, os: win11, business_line: voice, connection: winrm,
         hosts: "win-t[01:02]", addresses: 10.9.0.1}
    """
    bad = write_inventory(tmp_path / "bad", {"win.yml": site % ""})
    with pytest.raises(CcopsError) as refused:
        load_inventory(bad)
    assert "kerberos needs the host's DNS name" in str(refused.value)
    good = load_inventory(
        write_inventory(
            tmp_path / "good", {"win.yml": site % ", dns_domain: win.cc.example, ca_file: /etc/ccops/ca.pem"}
        )
    )
    got = host_vars(good, good.hosts["win-t02"])
    assert got["ansible_host"] == "win-t02.win.cc.example"
    assert got["ansible_winrm_ca_trust_path"] == "/etc/ccops/ca.pem"
