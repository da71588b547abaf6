"""The exit-code table holds: one table in errors.py, --help and the docs; one code per kind of ending.

Runs go against loopback hosts that never answer (tests/cli/loopback.py): real
ccops, real Ansible, nothing leaves 127.0.0.0/8.
"""

import os
import pty
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ccops.cli.confirm import confirm
from ccops.errors import (
    EXIT_CODES,
    EXIT_HALTED,
    EXIT_HOSTS_FAILED,
    EXIT_INTERRUPTED,
    EXIT_REFUSED,
    EXIT_USAGE,
    RefusedError,
)
from tests.cli.loopback import ClosedPort, SilentListener, loopback_inventory
from tests.conftest import BIN, EXAMPLE, ROOT, ccops_env, online_example
from tests.json_output import payload


@pytest.fixture
def closed_ports():
    ports = [ClosedPort() for _ in range(3)]
    yield [p.port for p in ports]
    for port in ports:
        port.close()


def test_one_table_in_errors_help_and_readme(ccops):
    assert len(set(EXIT_CODES)) == 9 and {0, 2, 3, 6, 130} <= set(EXIT_CODES)  # pipelines depend on these
    help_text = ccops("--help").stdout
    # the docs' table is made from EXIT_CODES when the site is built (tests/cli/test_docs_site.py reads the page)
    assert "<!-- ccops:exit-codes -->" in (ROOT / "docs/reference/exit-codes.md").read_text()
    for code, meaning in EXIT_CODES.items():
        assert re.search(rf"^\s+{code}  {re.escape(meaning)}$", help_text, re.MULTILINE), (code, help_text)


@pytest.mark.parametrize(
    "args",
    [
        ("inspect", "--no-such-option"),
        ("patch", "-i", str(EXAMPLE)),  # --change-id is required
        ("plan",),  # VERB is missing
        ("plan", "reboot", "-i", str(EXAMPLE)),  # no such verb
        ("plan", "inspect", "-i", str(EXAMPLE), "--site", "nosuch"),
        ("inventory", "list", "-i", str(EXAMPLE), "--site", "nosuch"),
        ("inventory", "list", "-i", str(EXAMPLE), "--limit", "nosuch-*"),
        ("inspect", "-i", "ONLINE", "--os", "win7"),  # the example's copy without offline: true
    ],
)
def test_usage_error(ccops, args, tmp_path):
    online = str(online_example(tmp_path / "online")) if "ONLINE" in args else ""
    result = ccops(*(online if a == "ONLINE" else a for a in args))
    assert result.returncode == EXIT_USAGE, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip()


def test_every_command_refuses_a_selector_that_names_nothing_the_same_way(ccops, tmp_path):
    online = online_example(tmp_path / "online")  # inspect refuses the offline example before selecting
    for option, value in (
        ("--site", "nosuch"),
        ("--role", "nosuch"),
        ("--os", "nosuch"),
        ("--line", "nosuch"),
        ("--limit", "nosuch-*"),
    ):
        answers = [
            ccops(*command, "-i", str(online), option, value)
            for command in (("inventory", "list"), ("plan", "inspect"), ("plan", "patch"), ("inspect",))
        ]
        assert {a.returncode for a in answers} == {EXIT_USAGE}, option
        assert len({a.stderr for a in answers}) == 1, [a.stderr for a in answers]


def _sigint_as_at_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _with_terminal(args: list[str], home, stdin_text: str = "", until: str | None = None):
    """Run ccops with a terminal as stdin (so it asks); type ``stdin_text``, or SIGINT once ``until`` is on stderr."""
    env = ccops_env(home)
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "ccops"), *args],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
        # an operator's terminal delivers Ctrl-C; a suite started as a background job in a
        # non-interactive shell (scripts/test) inherits SIGINT ignored, and Python keeps that
        preexec_fn=_sigint_as_at_a_terminal,  # noqa: PLW1509 (only resets one signal; no lock taken)
    )
    os.close(terminal)
    try:
        if stdin_text:
            os.write(controller, stdin_text.encode())  # the terminal holds it until ccops reads its answer
        err = b""
        if until is not None:
            while until.encode() not in err:
                chunk = os.read(proc.stderr.fileno(), 4096)
                assert chunk, err
                err += chunk
            _wait_reading_stdin(proc.pid)
            proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=120)
    finally:
        os.close(controller)
    return proc.returncode, out.decode(), (err + rest).decode()


READ_SYSCALL = {"x86_64": "0", "aarch64": "63"}


def _wait_reading_stdin(pid: int) -> None:
    """Wait until ``pid`` blocks reading its stdin: a SIGINT that lands just before the read is lost to Python."""
    if os.uname().machine not in READ_SYSCALL:
        pytest.skip("no read syscall number for this machine")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if Path(f"/proc/{pid}/syscall").read_text().split()[:2] == [READ_SYSCALL[os.uname().machine], "0x0"]:
            return
        time.sleep(0.05)
    raise AssertionError("ccops never waited for an answer")


def test_declined_confirmation_is_a_refusal_and_runs_nothing(ccops, tmp_path, closed_ports):
    inventory = loopback_inventory(tmp_path / "inv", closed_ports[:2])
    code, _, err = _with_terminal(["patch", "-i", str(inventory), "--change-id", "CHG-1"], ccops.home, "n\n")
    assert code == EXIT_REFUSED, err
    assert "patch 2 host(s)" in err and "interrupted" not in err
    assert payload(ccops("runs", "list", "--output", "json").stdout) == []


def test_ctrl_c_at_the_confirmation_is_an_interrupt_not_a_refusal(ccops, tmp_path, closed_ports):
    inventory = loopback_inventory(tmp_path / "inv", closed_ports[:2])
    code, _, err = _with_terminal(["patch", "-i", str(inventory), "--change-id", "CHG-1"], ccops.home, until="[y/N]")
    assert code == EXIT_INTERRUPTED, err
    assert payload(ccops("runs", "list", "--output", "json").stdout) == []


def test_no_terminal_to_confirm_on_is_a_refusal():
    with pytest.raises(RefusedError, match="pass --yes") as refused:
        confirm("patch 3 host(s)", yes=False)  # pytest's stdin is no terminal
    assert refused.value.exit_code == EXIT_REFUSED
    confirm("patch 3 host(s)", yes=True)


def test_a_guard_refusal_lifecycle(ccops, tmp_path, closed_ports):
    inventory = loopback_inventory(tmp_path / "inv", closed_ports[:2], retiring=("lo-t02",))
    result = ccops("patch", "-i", str(inventory), "--change-id", "CHG-1", "--yes", "--limit", "lo-t02")
    assert result.returncode == EXIT_REFUSED, result.stderr
    assert "none in state active (1 retiring)" in result.stderr
    assert payload(ccops("runs", "list", "--output", "json").stdout) == []


def test_a_guard_refusal_offline_inventory(ccops):
    result = ccops("inspect", "-i", str(EXAMPLE), "--limit", "shapd-db0001")
    assert "offline: true" in result.stderr
    assert result.returncode == EXIT_REFUSED


def test_hosts_failed(ccops, tmp_path, closed_ports):
    inventory = loopback_inventory(tmp_path / "inv", closed_ports[:2])
    result = ccops("inspect", "-i", str(inventory), "--output", "json")
    data = payload(result.stdout)
    assert result.returncode == EXIT_HOSTS_FAILED, result.stderr
    assert data["status"] == "failed" and {h["outcome"] for h in data["hosts"]} == {"unreachable"}


def test_halted_when_the_canary_fails(ccops, tmp_path, closed_ports):
    # canary 1, then the rest; max_fail_percentage 0: an unreachable canary halts the run before wave 1
    inventory = loopback_inventory(tmp_path / "inv", closed_ports)
    result = ccops("patch", "-i", str(inventory), "--change-id", "CHG-1", "--yes", "--output", "json")
    data = payload(result.stdout)
    assert result.returncode == EXIT_HALTED, result.stderr
    assert data["status"] == "halted" and [w["wave"] for w in data["waves"]] == ["canary"]
    assert [h["outcome"] for h in data["hosts"]] == ["unreachable"]


def test_interrupted_mid_batch(ccops, tmp_path):
    silent = SilentListener()
    try:
        inventory = loopback_inventory(tmp_path / "inv", [silent.port])
        proc = subprocess.Popen(
            [str(BIN / "ccops"), "inspect", "-i", str(inventory), "--output", "json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=ccops_env(ccops.home),
        )
        # marker: ssh from inside the batch has connected and waits for a banner that never comes
        assert silent.connected.wait(120), "the run never reached the host"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        silent.close()
    assert proc.returncode == EXIT_INTERRUPTED, err
    assert payload(out)["status"] == "interrupted"
    # nothing of that batch's Ansible goes on (its workers start sessions of their own)
    runs_dir = str(ccops.home / "runs")
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            assert runs_dir not in cmdline.read_bytes().decode(errors="replace"), cmdline
        except OSError:
            continue
    runs = payload(ccops("runs", "list", "--output", "json").stdout)
    assert [r["status"] for r in runs] == ["interrupted"]
