"""A real mail server for the lab: exim4 in a Debian container on the lab network.

Used to prove ``ccops notify`` against a real MTA: STARTTLS with a certificate the
caller makes, local delivery to ``/var/mail/USER`` (read back with ``mailbox``).
The image is built like the lab hosts' (mmdebstrap from this machine's own Debian
sources) with exim4 added; the container gets a fixed address on the lab network.

``hold=True`` makes the server stop in the middle of the first message it receives
after its first start (its DATA ACL logs ``MARKER`` and waits), so a caller can kill
it at a known point of a delivery; after a restart it accepts mail at once.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ccops.errors import LabError
from ccops.image.sources import build_sources
from ccops.lab.network import NETWORK, SUBNET
from ccops.lab.podman import podman, podman_env
from ccops.paths import state_dir

IMAGE = "localhost/ccops-lab-mail:debian12"
CONTAINER = "ccops-lab-mail"
LABEL = "ccops.lab.mail"
ADDRESS = str(SUBNET.network_address + 250)  # far above the lab hosts (they count up from .10)
DOMAIN = "lab.test"
MARKER = "ccops-lab-mail: holding a message"
SUITE = "bookworm"
PACKAGES = ("exim4-daemon-light", "ca-certificates", "passwd")

EXIM_CONFIG = f"""\
primary_hostname = mail.{DOMAIN}
domainlist local_domains = {DOMAIN}
daemon_smtp_ports = 25 : 587
tls_advertise_hosts = *
tls_certificate = /etc/exim4/lab.crt
tls_privatekey = /etc/exim4/lab.key
acl_smtp_rcpt = acl_rcpt
acl_smtp_data = acl_data
exim_user = Debian-exim
exim_group = Debian-exim
never_users = root
log_file_path = /var/log/exim4/%slog
spool_directory = /var/spool/exim4
host_lookup =
rfc1413_hosts =

begin acl
acl_rcpt:
  deny    message = STARTTLS first
          !encrypted = *
  accept  domains = +local_domains
  deny    message = relay not permitted

acl_data:
  warn    condition = ${{if exists{{/etc/exim4/hold}}}}
          logwrite = {MARKER}
          delay = 120s
  accept

begin routers
local_user:
  driver = accept
  domains = +local_domains
  check_local_user
  transport = local_delivery

begin transports
local_delivery:
  driver = appendfile
  file = /var/mail/${{local_part_data}}
  delivery_date_add
  envelope_to_add
  return_path_add
  group = mail
  mode = 0600
"""

# the container's command: constants only, the caller's files come in through a read-only mount
START = """\
set -e
install -o root -g root -m 0644 /ccops-mail/exim4.conf /etc/exim4/exim4.conf
install -o root -g Debian-exim -m 0640 /ccops-mail/lab.key /etc/exim4/lab.key
install -o root -g root -m 0644 /ccops-mail/lab.crt /etc/exim4/lab.crt
id duty >/dev/null 2>&1 || useradd --create-home duty
rm -f /etc/exim4/hold
if [ -e /ccops-mail/hold ] && [ ! -e /var/lib/ccops-mail-started ]; then touch /etc/exim4/hold; fi
touch /var/lib/ccops-mail-started
mkdir -p /var/log/exim4 /var/spool/exim4 && chown Debian-exim:Debian-exim /var/log/exim4 /var/spool/exim4
exec /usr/sbin/exim4 -bdf -q10s
"""


def ensure_image() -> None:
    """Build the mail image once (mmdebstrap, about a minute); later calls reuse it."""
    if _exists():
        return
    if shutil.which("mmdebstrap") is None:
        raise LabError("mmdebstrap is not installed: run scripts/setup")
    work = state_dir() / "lab" / "build"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work, prefix="mail-") as tmp:
        folder = Path(tmp)
        (folder / "build.sources").write_text(build_sources(SUITE))
        tarball = folder / "rootfs.tar"
        proc = subprocess.run(
            [
                "mmdebstrap",
                "--variant=apt",
                "--quiet",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(tarball),
                str(folder / "build.sources"),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=1800,
            umask=0o022,
        )
        if proc.returncode != 0:
            raise LabError(f"mmdebstrap {SUITE} (mail image) failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
        podman("import", str(tarball), IMAGE, timeout=600)


def _exists() -> bool:
    return subprocess.run(["podman", "image", "exists", IMAGE], env=podman_env(), check=False).returncode == 0


def start(files: Path, hold: bool = False) -> str:
    """Run the mail server with ``files`` (lab.crt, lab.key) mounted; returns its address once it answers."""
    stop()
    (files / "exim4.conf").write_text(EXIM_CONFIG)
    if hold:
        (files / "hold").touch()
    podman(
        "run",
        "-d",
        "--name",
        CONTAINER,
        "--label",
        f"{LABEL}=1",
        f"--network={NETWORK}",
        "--ip",
        ADDRESS,
        "-v",
        f"{files}:/ccops-mail:ro",
        IMAGE,
        "/bin/sh",
        "-c",
        START,
    )
    return wait_ready()


def wait_ready(timeout: float = 60) -> str:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((ADDRESS, 587), timeout=2) as conn:
                if conn.recv(64).startswith(b"220"):
                    return ADDRESS
        except OSError:
            pass
        time.sleep(0.5)
    logs = podman("logs", CONTAINER, check=False)[-500:]
    raise LabError(f"the lab mail server did not answer on {ADDRESS}:587: {logs}")


def wait_marker(timeout: float = 60) -> None:
    """Wait until the server is holding a message in the middle of its delivery."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = podman("exec", CONTAINER, "cat", "/var/log/exim4/mainlog", check=False)
        if MARKER in log:
            return
        time.sleep(0.2)
    raise LabError("the lab mail server never reached its hold point")


def kill() -> None:
    podman("kill", CONTAINER, check=False)


def restart() -> str:
    podman("start", CONTAINER)
    return wait_ready()


def mailbox(user: str = "duty") -> str:
    return podman("exec", CONTAINER, "cat", f"/var/mail/{user}", check=False)


def stop() -> None:
    podman("rm", "-f", "-t", "0", CONTAINER, check=False)
