"""One lab fleet for all lab tests: three hosts, one per Debian variant.

The lab is this machine's lab: these tests reshape it, and remove it at the end.
"""

import shutil
import subprocess
import time

import pytest

from tests.conftest import run_ccops


@pytest.fixture(scope="session")
def lab_home(tmp_path_factory):
    if shutil.which("podman") is None or shutil.which("mmdebstrap") is None:
        pytest.fail("lab tests need podman and mmdebstrap: run scripts/setup")
    home = tmp_path_factory.mktemp("ccops-lab-home")
    run_ccops(home, "lab", "down", timeout=600)  # fresh, unpatched hosts
    run_ccops(home, "lab", "up", "--hosts", "3", check=True, timeout=3600)
    yield home
    run_ccops(home, "lab", "down", timeout=600)


def pexec(host: str, *argv: str, check: bool = True, stdin: str | None = None) -> str:
    """Run a command inside a lab host, as its console would (not through ccops)."""
    proc = subprocess.run(
        ["podman", "exec", *(["-i"] if stdin else []), f"ccops-lab-{host}", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{host}: {' '.join(argv)} exited {proc.returncode}: {proc.stderr or proc.stdout}")
    return proc.stdout


def versions(host: str) -> dict[str, str]:
    out = pexec(host, "dpkg-query", "-W", "-f", "${Package}=${Version}=${db:Status-Abbrev}\n")
    return {
        name: version
        for name, version, status in (line.split("=") for line in out.splitlines())
        if status.startswith("ii")
    }


def reboot(host: str, timeout: float = 120) -> None:
    """Reboot from inside the host and wait until systemd is up again (PID 1 restarted)."""
    before = pexec(host, "awk", "{print $22}", "/proc/1/stat").strip()
    pexec(host, "systemctl", "reboot", check=False)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(2)
        now = pexec(host, "awk", "{print $22}", "/proc/1/stat", check=False).strip()
        state = pexec(host, "systemctl", "is-system-running", check=False).strip()
        if now and now != before and state in ("running", "degraded"):
            return
    raise AssertionError(f"{host} did not come back from its reboot within {timeout}s")
