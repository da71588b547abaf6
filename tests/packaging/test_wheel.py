"""ccops installed from a wheel, away from its checkout: the lab, inspect and a user's own inventory.

The wheel is built by pip from a copy of the repository's files (what git
tracks or would track), installed with its dependencies into a fresh venv
under a temporary folder, and run from there with no PYTHONPATH or
CCOPS_PROJECT pointing back at a checkout. The lab part reshapes the lab
like tests/lab does: run it under the lab lock.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT
from tests.json_output import payload

pytestmark = pytest.mark.slow
CHECKOUT_ENV = ("PYTHONPATH", "CCOPS_PROJECT", "CCOPS_INVENTORY", "VIRTUAL_ENV", "ANSIBLE_CONFIG")


def _run(
    argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def _source_copy(dest: Path) -> Path:
    """The repository's files as a fresh clone would have them, uncommitted edits included."""
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is not shipped
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = _source_copy(work / "source")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work / "dist"), str(source)], cwd=work)
    (built,) = (work / "dist").glob("ccops-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict:
    """A fresh venv outside the checkout with the wheel and its dependencies, and how to run it."""
    work = tmp_path_factory.mktemp("installed")
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=work)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=work, timeout=900)
    env = {k: v for k, v in os.environ.items() if k not in CHECKOUT_ENV}
    # the test's own venv (with its editable ccops) stays off PATH: only the new venv's tools run
    env["PATH"] = os.pathsep.join([str(venv / "bin"), "/usr/local/bin", "/usr/bin", "/bin"])
    env["CCOPS_HOME"] = str(work / "ccops-home")
    site = Path(
        _run(
            [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            cwd=work,
            env=env,
        ).stdout.strip()
    )
    return {"venv": venv, "work": work, "env": env, "home": work / "ccops-home", "package": site / "ccops"}


def _ccops(installed: dict, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return _run(
        [str(installed["venv"] / "bin" / "ccops"), *args],
        cwd=installed["work"],
        env=installed["env"],
        timeout=timeout,
        check=False,
    )


def _tree_listing(package: Path) -> dict[str, int]:
    tree = package / "_tree"
    return {str(p.relative_to(tree)): p.stat().st_mtime_ns for p in tree.rglob("*") if "__pycache__" not in p.parts}


def test_wheel_ships_the_ansible_tree_from_the_top_level_folders(wheel):
    with zipfile.ZipFile(wheel) as archive:
        members = {info.filename: info for info in archive.infolist()}
        for top in ("playbooks", "roles", "inventory/example", "images/lab"):
            tracked = [p for p in (ROOT / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
            assert tracked
            for path in tracked:
                shipped = f"ccops/_tree/{path.relative_to(ROOT)}"
                assert shipped in members, shipped
                assert archive.read(shipped) == path.read_bytes()
        # the lab hook runs as a program: its mode survives the wheel
        assert members["ccops/_tree/images/lab/customize.sh"].external_attr >> 16 & 0o111
        config = archive.read("ccops/_tree/ansible.cfg").decode()
        assert "ccops/ansible_plugins/inventory/ccops.py" in members
    assert "inventory_plugins = ../ansible_plugins/inventory" in config
    assert "src/ccops" not in config
    # nothing of the checkout's own state: the lab inventory, tests, the venv
    assert not [m for m in members if m.startswith(("ccops/_tree/inventory/lab", "tests/", ".venv"))]


def test_installed_ccops_runs_from_its_own_venv_not_a_checkout(installed):
    probe = (
        "import json, ccops, ccops.paths as p, ccops.run as r; print(json.dumps({'module': ccops.__file__, "
        "'root': str(p.project_root()), 'inventory': str(p.default_inventory()), 'commit': r.git_commit()}))"
    )
    found = json.loads(
        _run(
            [str(installed["venv"] / "bin" / "python"), "-c", probe], cwd=installed["work"], env=installed["env"]
        ).stdout
    )
    assert Path(found["module"]).parent == installed["package"]
    assert Path(found["root"]) == installed["package"] / "_tree"
    assert Path(found["inventory"]) == installed["home"] / "lab" / "inventory"
    assert found["commit"] is None  # not a checkout: the record says so instead of guessing


def test_installed_ccops_reads_a_users_inventory_folder(installed):
    mine = installed["work"] / "my-inventory"
    shutil.copytree(EXAMPLE, mine)
    result = _ccops(installed, "inventory", "validate", "-i", str(mine))
    assert result.returncode == 0 and "3 site(s), 3200 host(s), no problems" in result.stdout, result.stderr
    # a broken site file is one FILE:LINE line, from the installed code as from the checkout
    (mine / "sites" / "shapd.yml").write_text("site: [unclosed\n")
    broken = _ccops(installed, "inventory", "validate", "-i", str(mine))
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert broken.stderr.startswith("my-inventory/sites/shapd.yml:2: bad YAML")  # relative to the cwd


def test_stock_ansible_reads_an_inventory_through_the_shipped_config(installed):
    env = {**installed["env"], "ANSIBLE_CONFIG": str(installed["package"] / "_tree" / "ansible.cfg")}
    result = _run(
        [str(installed["venv"] / "bin" / "ansible-inventory"), "-i", str(EXAMPLE), "--list"],
        cwd=installed["work"],
        env=env,
    )
    doc = json.loads(result.stdout)
    assert len(doc["_meta"]["hostvars"]) == 3200 and "site_shapd" in doc


@pytest.mark.lab
def test_installed_ccops_brings_up_the_lab_and_inspects_it(installed):
    before = _tree_listing(installed["package"])
    _ccops(installed, "lab", "down")  # a fresh host, like tests/lab
    try:
        up = _ccops(installed, "lab", "up", "--hosts", "1", "--variants", "debian12", timeout=1800)
        assert up.returncode == 0, up.stderr[-3000:]
        inventory = installed["home"] / "lab" / "inventory"
        assert (inventory / "ccops.yml").is_file() and f"in {inventory}" in up.stderr
        # the default inventory follows the lab: no -i
        result = _ccops(installed, "inspect", "--output", "json")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        report = payload(result.stdout)
        assert {h["host"]: h["outcome"] for h in report["hosts"]} == {"lab-deb12-01": "ok"}
        assert report["reports"]["lab-deb12-01"]["os"]["version"].startswith("12")
    finally:
        down = _ccops(installed, "lab", "down")
    assert down.returncode == 0 and not (installed["home"] / "lab" / "inventory").exists()
    # the installed package is only read: a root-owned site-packages works the same
    assert _tree_listing(installed["package"]) == before
