"""WinRM certificate validation as Ansible really applies it (no Windows host runs here).

A local HTTPS endpoint on 127.0.0.1 stands where a Windows seat's WinRM listener would be,
with a certificate no trusted CA signed. With `cert_validation: validate` the TLS handshake
must fail before any request (and so any credential) is sent; with `ignore` the request
does arrive, which shows the endpoint would have been reached and the test can fail.
"""

from __future__ import annotations

import datetime
import http.server
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import ccops_env, run_ccops, write_inventory
from tests.json_output import payload

SITE = """\
site:
  code: win
  city: testcity
  timezone: UTC
connections:
  winrm: {{type: winrm, port: {port}, transport: ntlm, cert_validation: {validation},
          user: svc-ccops, password: {{env: CCOPS_TEST_WINRM_PASSWORD}}}}
groups:
  - name: seats
    role: agent_desktop
    os: win11
    business_line: voice
    connection: winrm
    hosts: win-seat-01
    addresses: 127.0.0.1
"""


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "win-seat-01.cc.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("win-seat-01.cc.test")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


@pytest.fixture
def listener(tmp_path):
    """An HTTPS endpoint on loopback that counts the requests (and auth headers) it receives."""
    seen: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append({"path": self.path, "authorization": bool(self.headers.get("Authorization"))})
            self.send_response(401)
            self.send_header("WWW-Authenticate", "Negotiate")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def _inspect(ccops, tmp_path: Path, port: int, validation: str) -> dict:
    inv = write_inventory(tmp_path / f"inv-{validation}", {"win.yml": SITE.format(port=port, validation=validation)})
    shown = payload(ccops("inventory", "show", "win-seat-01", "-i", str(inv), "--output", "json", check=True).stdout)
    # the settings Ansible receives for this host
    assert shown["vars"]["ansible_winrm_server_cert_validation"] == validation
    assert shown["vars"]["ansible_winrm_scheme"] == "https"
    env = {**ccops_env(ccops.home), "CCOPS_TEST_WINRM_PASSWORD": "canary-password-not-real"}
    result = run_ccops(ccops.home, "inspect", "-i", str(inv), "--output", "json", env=env, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    (host,) = payload(result.stdout)["hosts"]
    return host


def test_a_wrong_certificate_is_refused_before_any_request(ccops, tmp_path, listener):
    port, seen = listener
    host = _inspect(ccops, tmp_path, port, "validate")
    assert host["outcome"] == "unreachable"
    assert "certificate verify failed" in host["message"].lower() or "ssl" in host["message"].lower()
    assert seen == []  # no request, so no credential, reached the endpoint


def test_with_validation_off_the_same_endpoint_is_reached(ccops, tmp_path, listener):
    port, seen = listener
    _inspect(ccops, tmp_path, port, "ignore")
    assert seen, "the request never arrived: the refusal above would prove nothing"
