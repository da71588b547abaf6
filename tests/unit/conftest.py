"""tests/unit is pure: a unit test that starts a process fails, naming the layer it belongs in.
Its files live in memory: tmp_path is a folder of the test's own in this run's own /dev/shm folder.

Starting ansible-playbook, the ccops command, a node helper or any other child process (and
racing processes) makes a test slow and machine-dependent; such tests live in tests/integration,
tests/cli, tests/ansible or tests/windows (docs/development/tests.md says which is which).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MESSAGE = (
    "tests/unit is pure, and this test started a process ({how}: {what}). A test that runs "
    "ansible-playbook, the ccops command or racing processes belongs in tests/integration."
)


# Quick read-only lookups the product makes inside a run, answered in milliseconds by this
# machine's own tools: the run's git commit (run/identity.py) and Debian's version order
# (content/selection.py asks dpkg). Everything else that starts a process is refused.
ALLOWED = (("git", "-C"), ("dpkg", "--compare-versions"))


def _allowed(argv: Any) -> bool:
    if not isinstance(argv, (list, tuple)) or len(argv) < 2:
        return False
    head = (Path(str(argv[0])).name, str(argv[1]))
    if head == ("git", "-C"):
        return len(argv) > 3 and str(argv[3]) in ("rev-parse", "status")
    return head in ALLOWED


class ProcessRefused(RuntimeError):
    """Raised where the child would start (an Exception, so a worker thread ends instead of hanging)."""


@pytest.fixture(scope="session")
def _memory_run_folder() -> Iterator[Path | None]:
    """This run's own folder in /dev/shm, removed at its end (two runs never share one).

    The store commits with fsync: on a disk shared with busy neighbours one commit can take
    tens of milliseconds, in memory it takes none (the unit layer runs about five times faster).
    """
    base = Path("/dev/shm")
    if not base.is_dir() or not os.access(base, os.W_OK):
        yield None
        return
    folder = Path(tempfile.mkdtemp(prefix="ccops-unit-", dir=base))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def tmp_path(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _memory_run_folder: Path | None
) -> Path:
    name = re.sub(r"\W", "_", request.node.name)[:30]
    if _memory_run_folder is None:  # no /dev/shm here: pytest's own folders on disk
        return tmp_path_factory.mktemp(name, numbered=True)
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_memory_run_folder))


@pytest.fixture(autouse=True)
def _no_child_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    started: list[str] = []

    def refuse(how: str, real: Any = None) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            if real is not None and _allowed(args[1] if len(args) > 1 else None):
                return real(*args, **kwargs)
            what = _argv_of(args[1] if how == "subprocess" and len(args) > 1 else args[:1])
            started.append(MESSAGE.format(how=how, what=what))
            raise ProcessRefused(started[-1])

        return refused

    # _execute_child is where every Popen (run, check_output, asyncio's) starts its child, even
    # when the code under test imported Popen by name before this patch
    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse("subprocess", subprocess.Popen._execute_child))  # type: ignore[attr-defined]
    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, refuse(f"os.{name}"))
    yield
    if started:  # the code under test may have caught the error: the test fails all the same
        pytest.fail(started[0], pytrace=False)


def _argv_of(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return " ".join(str(part) for part in value)[:120]
    return str(value)[:120]


@pytest.fixture(autouse=True)
def _own_state_folder(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A unit test never reads or writes the user's own ccops state (store, holds, outbox): each gets a fresh one.

    A test that sets CCOPS_HOME itself (monkeypatch.setenv) overrides this one.
    """
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path_factory.mktemp("ccops-home", numbered=True)))
