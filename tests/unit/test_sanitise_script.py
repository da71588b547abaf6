"""The sanitise script the decommission role runs on a host, run here on a scratch folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = ROOT / "roles" / "decommission" / "files" / "sanitise.py"


def _run(*args: str) -> tuple[int, list[dict]]:
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False)
    return proc.returncode, json.loads(proc.stdout)


def test_files_are_overwritten_with_zeros_before_they_go_and_links_are_not_followed(tmp_path):
    data = tmp_path / "data"
    (data / "calls").mkdir(parents=True)
    (data / "calls" / "a.wav").write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    (data / "notes.txt").write_text("customer 4711")
    outside = tmp_path / "keep.txt"
    outside.write_text("not data")
    (data / "link").symlink_to(outside)
    (tmp_path / "second-name").hardlink_to(data / "calls" / "a.wav")  # reads what the wipe left in the file
    log = tmp_path / "state" / "wipes.log"
    code, (result,) = _run("--run", "R1", "--log", str(log), "--", str(data))
    assert code == 0 and result["result"] == "passed" and result["files"] == 2
    assert result["bytes"] == 3 * 1024 * 1024 + 5 + len("customer 4711")
    assert "NIST SP 800-88" in result["method"] and "read back" in result["verification"]
    assert list(data.iterdir()) == []
    assert outside.read_text() == "not data"
    assert (tmp_path / "second-name").read_bytes() == bytes(3 * 1024 * 1024 + 5)
    assert log.read_text().count("run=R1 passed") == 1
    code, (again,) = _run("--check-only", "--run", "R1", "--log", str(log), "--", str(data))
    assert code == 0 and again["verification"] == "now empty folder" and log.read_text().count("\n") == 1


def test_system_folders_are_refused_and_leftovers_fail_the_check(tmp_path):
    code, results = _run("--", "/etc", "/", "relative/path", str(tmp_path / "absent"))
    assert code == 1
    assert [r["result"] for r in results] == ["refused", "refused", "refused", "passed"]
    assert Path("/etc/passwd").exists()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    code, (left,) = _run("--check-only", "--", str(tmp_path / "full"))
    assert code == 1 and left["result"] == "failed" and (tmp_path / "full" / "x").exists()
