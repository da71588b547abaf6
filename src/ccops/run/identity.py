"""Who ran what from which commit, and where a run keeps its files."""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from ccops.paths import project_root, runs_installed, state_dir


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def operator() -> str:
    return os.environ.get("CCOPS_OPERATOR") or getpass.getuser()


def git_commit() -> str | None:
    """The commit of the playbooks and roles ccops runs; None when they are not a git checkout.

    An installed ccops runs the tree shipped in its wheel: a git repository around its venv
    says nothing about where that tree came from.
    """
    if runs_installed():
        return None
    root = project_root()
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("-dirty" if dirty else "")


def run_dir(run_id: str) -> Path:
    return state_dir() / "runs" / run_id


def attempt_ident(folder: Path, batch: str) -> str:
    """The batch's next attempt ident (w1-b2-a3): every attempt keeps its own artifacts and logs."""
    attempt = 1
    while (folder / "artifacts" / f"{batch}-a{attempt}").exists() or (folder / f"limit-{batch}-a{attempt}").exists():
        attempt += 1
    return f"{batch}-a{attempt}"


def rotate_run_dirs(runs: Path, keep: int) -> None:
    """Keep the artifacts of the newest ``keep`` runs; records stay in the store for ever.

    A folder still holding host results the store could not take (store-pending.jsonl)
    is kept whatever its age: deleting it would lose them.
    """
    if not runs.is_dir():
        return
    dirs = sorted((p for p in runs.iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in dirs[:-keep] if keep > 0 else dirs:
        if not (old / "store-pending.jsonl").exists():
            shutil.rmtree(old, ignore_errors=True)
