"""A night's run as it happens on a terminal: the real CLI with scripted hosts, stderr a pseudo-terminal.

The display says where the run is, recaps each batch by outcome and folds failures by reason;
NO_COLOR gives plain text without a single escape code, and markup a host sent prints as itself.
Plain lines when stderr is not a terminal are tests/cli/test_run_flow.py's.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.conftest import ROOT, ccops_env, write_inventory
from tests.json_output import payload

SITE = """\
site:
  code: par
  city: testcity
  timezone: UTC
  maintenance_windows: [{start: "00:00", end: "00:00"}]
  rollout: {canary: 1, waves: ["100%"], batch_size: 3, max_fail_percentage: 100}
  backup_target: {host: localhost, path: /var/tmp/ccops-live}
connections:
  linux: {type: ssh, user: ccops, become: true}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: par-a0[1:4]
    addresses: 127.0.9.9
"""
MARKUP = "[bold]seat[/] busy [red]now"  # what a host said: rich must print it, never read it
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(tmp_path: Path, *extra: str, **env: str) -> tuple[int, str, str]:
    """ccops patch with stderr on a pseudo-terminal 200 columns wide: (exit code, terminal text, stdout)."""
    inventory = write_inventory(tmp_path / "inv", {"par.yml": SITE})
    hosts = tmp_path / "hosts.json"
    refused = {"outcome": "refused", "reason": MARKUP}
    answers = {"outcomes": {"par-a02": "failed", "par-a03": "failed", "par-a04": "refused"}}
    hosts.write_text(json.dumps({**answers, "reports": {"par-a04": refused}}))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    child_env = {**ccops_env(tmp_path / "home"), "CCOPS_TEST_HOSTS": str(hosts), "PYTHONPATH": str(ROOT), **env}
    args = ["patch", "-i", str(inventory), "--change-id", "CHG-1", "--yes", *extra]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.cli.scripted_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=ROOT,
        env=child_env,
    )
    os.close(slave)
    said = b""
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal: it has ended
                break
            if not chunk:
                break
            said += chunk
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, said.decode(), out


def lines(terminal: str) -> list[str]:
    """What stays on the screen: escape sequences dropped, a line redrawn after a carriage return is its last draw."""
    return [line.split("\r")[-1] for line in ANSI.sub("", terminal).replace("\r\n", "\n").split("\n")]


def test_no_color_terminal_shows_position_recap_and_folded_failures_without_escapes(tmp_path):
    code, terminal, stdout = run_on_terminal(tmp_path, NO_COLOR="1", TERM="xterm-256color")
    assert code == 2, terminal  # hosts failed
    assert "\x1b" not in terminal  # NO_COLOR: not one escape code, not even a redrawn status line
    assert "Traceback" not in terminal + stdout
    shown = lines(terminal)
    # where the run is: wave, batch i/n, hosts done of the run's total, elapsed
    canary = r"canary, batch 1/1 at par: 1 host\(s\) · 0/4 hosts done · 0:\d\d elapsed"
    second = r"wave 1 \(100%\), batch 1/1 at par: 3 host\(s\) · 1/4 hosts done · 0:\d\d elapsed"
    assert any(re.fullmatch(canary, s) for s in shown) and any(re.fullmatch(second, s) for s in shown), shown
    # a recap per batch, by outcome
    assert any(re.fullmatch(r"  batch 1/1 done in 0:\d\d: 1 ok", s) for s in shown), shown
    assert any(re.fullmatch(r"  batch 1/1 done in 0:\d\d: 2 failed · 1 refused", s) for s in shown), shown
    # two hosts failing for one reason are one line, naming both
    assert "    FAILED      2 host(s): scripted task: scripted failure (par-a02, par-a03)" in shown
    assert not [s for s in shown if s.startswith("   FAILED ")]  # not the plain line per failing host
    # markup a host sent prints as itself
    assert f"    REFUSED     1 host(s): {MARKUP} (par-a04)" in shown
    assert "par-a02" not in stdout.split("\n")[0]  # stdout (a pipe) holds the result, never the display


def test_a_colour_terminal_gets_colour_and_the_same_lines(tmp_path):
    code, terminal, _ = run_on_terminal(tmp_path, TERM="xterm-256color")
    assert code == 2, terminal
    assert "\x1b[" in terminal  # colour on a terminal
    text = ANSI.sub("", terminal)
    assert "FAILED      2 host(s): scripted task: scripted failure (par-a02, par-a03)" in text
    assert f"REFUSED     1 host(s): {MARKUP} (par-a04)" in text


def test_json_output_on_a_terminal_stays_one_document_and_no_display(tmp_path):
    code, terminal, stdout = run_on_terminal(tmp_path, "-o", "json", TERM="xterm-256color")
    assert code == 2, terminal
    assert payload(stdout)["status"] == "failed"
    assert "batch" not in terminal and "\x1b" not in terminal  # pipelines asked for JSON: no progress at all
