"""Shared test helpers: the real ccops CLI in a subprocess, with its own state folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "inventory" / "example"
BIN = Path(sys.executable).parent


LAYERS = ("unit", "integration")  # a folder of tests/ that is also a marker: `pytest -m integration`


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        layer = item.path.relative_to(ROOT / "tests").parts[0] if item.path.is_relative_to(ROOT / "tests") else ""
        if layer in LAYERS:
            item.add_marker(layer)


def ccops_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "CCOPS_HOME": str(home), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("CCOPS_INVENTORY", None)
    return env


def run_ccops(
    home: Path, *args: str, check: bool = False, timeout: float = 600, env: dict | None = None
) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [str(BIN / "ccops"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env or ccops_env(home),
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"ccops {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def ccops(tmp_path: Path):
    home = tmp_path / "ccops-home"

    def call(*args: str, **kwargs) -> subprocess.CompletedProcess:
        return run_ccops(home, *args, **kwargs)

    call.home = home
    return call


SITE = """\
site:
  code: {code}
  name: Test centre
  city: testcity
  timezone: Asia/Shanghai
  rollout: {{canary: 1, waves: ["50%", "100%"], batch_size: 2}}
connections:
  linux: {{type: ssh, user: ccops, become: true}}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: {code}-t[01:{count:02d}]
    addresses: {address}
"""


def write_inventory(folder: Path, sites: dict[str, str]) -> Path:
    """An inventory folder with ccops.yml and the given site files (name -> YAML text)."""
    (folder / "sites").mkdir(parents=True, exist_ok=True)
    (folder / "ccops.yml").write_text("plugin: ccops\nsites: sites\n")
    for name, text in sites.items():
        (folder / "sites" / name).write_text(textwrap.dedent(text))
    return folder


def site_text(code: str = "tst", count: int = 4, address: str = "10.9.0.1") -> str:
    return SITE.format(code=code, count=count, address=address)


def online_example(folder: Path) -> Path:
    """A copy of inventory/example without ``offline: true``, for a test of a connecting command that
    must refuse for another reason first (its hosts are illustrative: such a test never reaches them)."""
    import shutil

    shutil.copytree(EXAMPLE, folder)
    config = folder / "ccops.yml"
    config.write_text(config.read_text().replace("offline: true", "offline: false"))
    return folder


def run_scripted(
    module: str, home: Path, hosts_file: Path, answers: dict, *args: str
) -> subprocess.CompletedProcess[str]:
    """ccops in a child process whose engine is scripted (MODULE's main): hosts answer ANSWERS, never a traceback."""
    hosts_file.write_text(json.dumps(answers))
    env = {**ccops_env(home), "CCOPS_TEST_HOSTS": str(hosts_file), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc
