"""Ansible that cannot be started ends a run in one line, exit 4, recorded with the reason.

ccops puts its own interpreter's folder first on Ansible's PATH, so the test runs the real
``ccops`` entry point from a stand-in virtualenv (its bin/ holds the broken ansible-playbook;
its lib/ is this project's) over loopback hosts that nothing reaches.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ccops.errors import EXIT_ENGINE
from tests.cli.loopback import ClosedPort, loopback_inventory
from tests.conftest import BIN, ROOT, ccops_env
from tests.json_output import payload

VENV = Path(sys.prefix)


def _stand_in_venv(folder: Path, ansible_playbook: str, mode: int) -> Path:
    (folder / "bin").mkdir(parents=True)
    (folder / "pyvenv.cfg").write_text((VENV / "pyvenv.cfg").read_text())
    (folder / "lib").symlink_to(VENV / "lib")
    (folder / "bin" / "python").symlink_to(VENV / "bin" / "python")
    entry = (BIN / "ccops").read_text().split("\n", 1)[1]
    (folder / "bin" / "ccops").write_text(f"#!{folder / 'bin' / 'python'}\n{entry}")
    (folder / "bin" / "ccops").chmod(0o755)
    (folder / "bin" / "ansible-playbook").write_text(ansible_playbook)
    (folder / "bin" / "ansible-playbook").chmod(mode)
    return folder / "bin"


@pytest.mark.parametrize(
    ("script", "mode", "says"),
    [
        ("#!/nonexistent/python3\n", 0o755, "interpreter"),  # its interpreter is gone
        ("#!/bin/sh\nexit 0\n", 0o644, "not executable"),  # permissions
    ],
    ids=["interpreter-missing", "not-executable"],
)
def test_ansible_that_cannot_start_is_one_line_and_exit_4(tmp_path, script, mode, says):
    port = ClosedPort()
    try:
        inventory = loopback_inventory(tmp_path / "inv", [port.port])
        bin_dir = _stand_in_venv(tmp_path / "venv", script, mode)
        env = ccops_env(tmp_path / "home")
        env["PATH"] = f"{bin_dir}{os.pathsep}/usr/bin:/bin"  # no other ansible-playbook to fall back on
        proc = subprocess.run(
            [str(bin_dir / "ccops"), "inspect", "-i", str(inventory), "-o", "json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=300,
            check=False,
        )
    finally:
        port.close()
    assert proc.returncode == EXIT_ENGINE, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "ansible-playbook" in lines[0] and says in lines[0], proc.stderr
    listed = subprocess.run(
        [str(BIN / "ccops"), "runs", "list", "-o", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ccops_env(tmp_path / "home"),
        timeout=60,
        check=True,
    )
    (run,) = payload(listed.stdout)
    assert run["status"] == "error" and run["exit_code"] == EXIT_ENGINE, run
    assert "ansible-playbook" in run["message"] and says in run["message"], run
