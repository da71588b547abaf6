"""Host keys on real hosts: a machine that answers with another key gets no secret and no task.

One lab host is re-keyed as a re-imaged (or impersonating) machine would be; ccops must
refuse it for inspect and patch, whatever the operator's environment says, and accept the
new key only through `ccops hostkey accept`.
"""

import time

import pytest

from ccops.runner.hostkeys import scan
from tests.conftest import ccops_env, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec, versions

pytestmark = pytest.mark.lab
HOST = "lab-deb12-01"
ADDRESS = "10.213.0.11"  # its address in the default lab layout
# an operator's environment that would switch host key checking off for stock Ansible
LAX = {"ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_SSH_ARGS": "-o StrictHostKeyChecking=no"}


@pytest.fixture(scope="module")
def rekeyed(lab_home):
    known = lab_home / "lab" / "known_hosts"
    saved_known = known.read_text()
    pexec(HOST, "sh", "-c", "mkdir -p /var/tmp/saved-keys && cp -a /etc/ssh/ssh_host_* /var/tmp/saved-keys/")
    # a run just before the re-key: an SSH master connection it left open (ControlPersist) must not
    # carry the next run past the host key check
    run_ccops(lab_home, "inspect", "--limit", HOST, "--output", "json", check=True)
    time.sleep(1.1)  # the journal's --since is whole seconds: the run above ends before it
    since = pexec(HOST, "date", "+%s").strip()
    pexec(HOST, "sh", "-c", "rm -f /etc/ssh/ssh_host_* && ssh-keygen -A && systemctl restart ssh")
    _wait_until_presented(pexec(HOST, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").split()[1])
    yield lab_home, since
    pexec(
        HOST, "sh", "-c", "rm -f /etc/ssh/ssh_host_* && cp -a /var/tmp/saved-keys/* /etc/ssh/ && systemctl restart ssh"
    )
    known.write_text(saved_known)
    _wait_until_presented(pexec(HOST, "cat", "/etc/ssh/ssh_host_ed25519_key.pub").split()[1])


def _wait_until_presented(public_key: str, timeout: float = 60) -> None:
    """The marker that the re-key is done: sshd answers with the new key (a restart can lag)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(line.split()[-1] == public_key for line in scan(ADDRESS, 22)):
            return
        time.sleep(0.5)
    raise AssertionError(f"{HOST} still presents its old host key after {timeout}s")


def _lax_env(home):
    return {**ccops_env(home), **LAX}


def _journal(since: str, *match: str) -> str:
    # let journald catch up with the last connection attempt before reading it
    time.sleep(1)
    return pexec(HOST, "journalctl", "--no-pager", "-o", "cat", f"--since=@{since}", *match, check=False)


def test_a_changed_key_is_refused_for_inspect_and_patch_and_gets_no_secret(rekeyed):
    home, since = rekeyed
    before = versions(HOST)
    result = run_ccops(home, "inspect", "--limit", HOST, "--output", "json", env=_lax_env(home))
    assert result.returncode == 2, result.stderr[-2000:]
    (host,) = payload(result.stdout)["hosts"]
    assert host["outcome"] == "unreachable"
    assert "host key changed" in host["message"] and HOST in host["message"]
    assert str(home / "lab" / "known_hosts") in host["message"]

    result = run_ccops(
        home, "patch", "--limit", HOST, "--yes", "--output", "json", "--change-id", "CHG-KEY", env=_lax_env(home)
    )
    assert result.returncode in (2, 3), result.stderr[-2000:]
    outcomes = {h["host"]: h for h in payload(result.stdout)["hosts"]}
    assert outcomes[HOST]["outcome"] == "unreachable"
    assert versions(HOST) == before
    # nothing authenticated, so neither the key login nor the sudo password reached the host
    assert "Accepted" not in _journal(since, "-u", "ssh")
    assert "COMMAND=" not in _journal(since, "_COMM=sudo")  # no sudo was started: no password went over


def test_an_unknown_host_is_refused(rekeyed):
    home, _ = rekeyed
    known = home / "lab" / "known_hosts"
    known.write_text(
        "".join(line + "\n" for line in known.read_text().splitlines() if not line.startswith(f"{ADDRESS} "))
    )
    result = run_ccops(home, "inspect", "--limit", HOST, "--output", "json", env=_lax_env(home))
    assert result.returncode == 2
    (host,) = payload(result.stdout)["hosts"]
    assert host["outcome"] == "unreachable"
    assert "host key unknown" in host["message"] and str(known) in host["message"]


def test_a_deliberate_rekey_is_recorded_and_then_the_host_is_reached(rekeyed):
    home, _ = rekeyed
    checked = run_ccops(home, "hostkey", "check", "--limit", HOST, "--output", "json")
    assert checked.returncode == 2
    assert payload(checked.stdout)[0]["state"] == "unknown"
    presented = payload(checked.stdout)[0]["presented"]

    declined = run_ccops(home, "hostkey", "accept", HOST, env={**ccops_env(home)}, timeout=60)
    assert declined.returncode != 0  # no terminal, no --yes: nothing is recorded
    assert (
        payload(run_ccops(home, "hostkey", "check", "--limit", HOST, "--output", "json").stdout)[0]["state"]
        == "unknown"
    )

    accepted = run_ccops(home, "hostkey", "accept", HOST, "--yes", "--change-id", "CHG-REKEY", check=True)
    assert "new key recorded" in accepted.stdout
    assert (
        payload(run_ccops(home, "hostkey", "check", "--limit", HOST, "--output", "json", check=True).stdout)[0][
            "presented"
        ]
        == presented
    )
    runs = payload(run_ccops(home, "runs", "list", "--output", "json", check=True).stdout)
    rekey = next(r for r in runs if r["verb"] == "hostkey")
    shown = payload(run_ccops(home, "runs", "show", rekey["run_id"], "--output", "json", check=True).stdout)
    assert shown["change_id"] == "CHG-REKEY"
    assert shown["hosts"][0]["host"] == HOST and presented[0] in shown["hosts"][0]["message"]

    result = run_ccops(home, "inspect", "--limit", HOST, "--output", "json", env=_lax_env(home))
    assert result.returncode == 0, result.stderr[-2000:]
