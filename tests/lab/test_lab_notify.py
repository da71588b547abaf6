"""A run's report by mail through a real MTA on the lab network (exim4, STARTTLS), surviving the server's death.

The mail server is killed while it holds the message in the middle of its delivery
(it logs a marker and waits at DATA): the report stays in the outbox, and ``ccops
notify flush`` delivers it once the server is back. Its mailbox is read back.
"""

from __future__ import annotations

import email
import subprocess
from pathlib import Path

import pytest

from ccops.lab import mail
from ccops.lab.network import ensure_network
from ccops.store.records import Store
from tests.conftest import BIN, ROOT, ccops_env, run_ccops
from tests.notify_fixtures import SECRET, inventory, stored_run

RULES = f"""\
channels:
  duty-mail:
    kind: mail
    server: {mail.ADDRESS}
    port: 587
    from: ccops@{mail.DOMAIN}
    to: [duty@{mail.DOMAIN}]
rules:
  - events: [failed]
    channels: [duty-mail]
"""


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def certificates(folder: Path) -> Path:
    """A throwaway CA and the mail server's certificate for its lab address; returns the CA file."""
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=ccops lab test CA",
        "-keyout",
        str(folder / "ca.key"),
        "-out",
        str(folder / "ca.crt"),
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN=mail.{mail.DOMAIN}",
        "-keyout",
        str(folder / "lab.key"),
        "-out",
        str(folder / "lab.csr"),
    )
    (folder / "san.ext").write_text(f"subjectAltName=IP:{mail.ADDRESS},DNS:mail.{mail.DOMAIN}\n")
    openssl(
        "x509",
        "-req",
        "-in",
        str(folder / "lab.csr"),
        "-CA",
        str(folder / "ca.crt"),
        "-CAkey",
        str(folder / "ca.key"),
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        str(folder / "san.ext"),
        "-out",
        str(folder / "lab.crt"),
    )
    return folder / "ca.crt"


def body(mbox: str) -> str:
    """The text of the one message in an mbox mailbox (its first line is the mbox "From " line)."""
    message = email.message_from_string(mbox.split("\n", 1)[1])
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@pytest.fixture
def mail_files(tmp_path: Path):
    files = tmp_path / "mail"
    files.mkdir()
    mail.ensure_image()
    ensure_network()
    ca = certificates(files)
    (files / "lab.key").chmod(0o644)  # a test key, copied into the container for exim's group only
    yield files, ca
    mail.stop()


def test_a_report_survives_the_mail_server_dying_mid_delivery_and_arrives_after_it_returns(tmp_path, mail_files):
    files, ca = mail_files
    home = tmp_path / "home"
    inv = inventory(tmp_path / "inv", RULES)
    run_id = stored_run(Store(home / "ccops.db"), inv)
    env = {**ccops_env(home), "SSL_CERT_FILE": str(ca), "CCOPS_TEST_SECRET": SECRET}
    mail.start(files, hold=True)

    sending = subprocess.Popen(
        [str(BIN / "ccops"), "notify", "send", run_id],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    mail.wait_marker()  # the server holds the message at DATA: the delivery is under way
    mail.kill()
    out, err = sending.communicate(timeout=120)
    assert sending.returncode == 1, out + err
    assert "0 delivered, 1 pending" in out and mail.DOMAIN not in mail.mailbox()

    mail.restart()
    flushed = run_ccops(home, "notify", "flush", env=env)
    assert flushed.returncode == 0, flushed.stdout + flushed.stderr
    box = mail.mailbox()
    assert box.count(f"Subject: ccops patch {run_id}: failed") == 1  # delivered once
    text = body(box)
    for expected in ("bbb-t01", "seat busy", "aaa-t01-20261207-before", "ab" * 32, "Rolled back (1)", "bbb-t02"):
        assert expected in text, expected
    assert SECRET not in text and "redacted by ccops" in text and "\x1b" not in text
    log = subprocess.run(
        ["podman", "exec", mail.CONTAINER, "cat", "/var/log/exim4/mainlog"], capture_output=True, text=True, check=False
    ).stdout
    assert " X=TLS" in log  # received over STARTTLS (the server refuses recipients before it)
