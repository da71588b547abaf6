"""An inventory marked offline is never contacted, by any command.

Every command of the real CLI is declared as connecting or not (ccops.cli.connecting);
each connecting one runs against an offline copy of inventory/example with ssh,
ssh-keyscan, ssh-agent, ssh-add and ansible-playbook replaced by stand-ins that leave a
marker: it must refuse in one line naming the inventory's file, with EXIT_REFUSED, before
any prompt, having started none of them and recorded no run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ccops.cli.connecting import CONNECTING, NO_CONNECTION, commands
from ccops.cli.main import cli
from ccops.errors import EXIT_REFUSED
from ccops.verbs import VERBS
from tests.conftest import BIN, EXAMPLE, ROOT, ccops_env
from tests.json_output import payload

STAND_INS = ("ssh", "ssh-keyscan", "ssh-agent", "ssh-add", "ansible-playbook", "setpriv")
RUN_ID = "20261207T000000Z-offline0"

# arguments that get each connecting command past its own option checks (a command added to
# CONNECTING without arguments here fails this test until it is given some)
ARGS: dict[str, tuple[str, ...]] = {
    "comply": ("--fix", "--change-id", "CHG-1"),
    "content snapshot": ("--site", "njjy"),
    "decommission": ("-l", "njjy-*", "--change-id", "CHG-1"),
    "deploy": ("--image", "debian12-agent", "--change-id", "CHG-1", "-l", "njjy-*"),
    "hostkey accept": ("njjy-dp01",),
    "hostkey check": (),
    "image stage": ("debian12-agent", "--site", "njjy"),
    "inspect": (),
    "node check": ("--site", "njjy"),
    "node prepare": ("--site", "njjy"),
    "patch": ("--change-id", "CHG-1"),
    "quarantine evaluate": ("--apply", "--change-id", "CHG-1"),
    "quarantine hold": ("njjy-aw0-t0001", "--reason", "test", "--change-id", "CHG-1"),
    "quarantine lift": ("njjy-aw0-t0001", "--change-id", "CHG-1"),
    "reapply": ("--change-id", "CHG-1"),
    "resume": (RUN_ID,),
    "rollback": ("njjy-dp01", "--to", "some-backup", "--change-id", "CHG-1"),
    "schedule run": ("njjy-daily-inspect",),
    "software apply": ("--change-id", "CHG-1"),
    "software remove": ("softphone", "--change-id", "CHG-1"),
    "software stage": (),
    "remediate": ("--cve", "CVE-2024-0001", "--change-id", "CHG-1"),
    "vulns import": ("tracker.json", "--change-id", "CHG-1"),
}
# a command built from the verb registry takes the shared options only
ARGS |= {
    name: ("--change-id", "CHG-1") if verb.changes_hosts else ()
    for name, verb in VERBS.items()
    if verb.command and name not in ARGS
}


def test_every_command_is_declared_connecting_or_not():
    tree = set(commands(cli))
    connecting = set(CONNECTING)
    assert not connecting & NO_CONNECTION
    assert tree == connecting | NO_CONNECTION, (
        f"undeclared: {sorted(tree - connecting - NO_CONNECTION)}; gone: {sorted((connecting | NO_CONNECTION) - tree)}"
    )
    assert set(ARGS) == connecting


@pytest.fixture
def offline(tmp_path: Path) -> dict:
    """An offline inventory, a state folder holding a run of it, and a PATH of marker stand-ins."""
    inventory = tmp_path / "inventory"
    shutil.copytree(EXAMPLE, inventory)
    assert "offline: true" in (inventory / "ccops.yml").read_text()
    markers = tmp_path / "markers"
    markers.mkdir()
    stand_ins = tmp_path / "bin"
    stand_ins.mkdir()
    for name in STAND_INS:
        script = stand_ins / name
        script.write_text(f'#!/bin/sh\necho "$@" > "{markers}/{name}.$$"\nexit 255\n')
        script.chmod(0o755)
    home = tmp_path / "home"
    env = ccops_env(home)
    env["PATH"] = f"{stand_ins}{os.pathsep}{BIN}{os.pathsep}/usr/bin:/bin"
    _record_run(home, inventory, env)
    return {"inventory": inventory, "markers": markers, "home": home, "env": env}


def _record_run(home: Path, inventory: Path, env: dict) -> None:
    """A stopped inspect run of that inventory, as resume finds it (the inventory was online then)."""
    code = f"""
import sys
from ccops.store.records import Store
from ccops.paths import state_dir
Store(state_dir() / "ccops.db").start_run(
    {RUN_ID!r}, "inspect", operator="test", change_id=None, git_commit=None, inventory={str(inventory)!r},
    inventory_sha256="0", selectors={{}},
    request={{"inventory": {str(inventory)!r}, "verb": "inspect", "selector": {{}}}},
    plan={{"waves": [], "inventory_files": {{}}}},
)
"""
    subprocess.run([str(BIN / "python"), "-c", code], env=env, check=True, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("path", sorted(CONNECTING))
def test_connecting_command_refuses_an_offline_inventory_first(offline, path):
    args = [*path.split(), *ARGS[path]]
    if path != "resume":
        args += ["-i", str(offline["inventory"])]
    proc = subprocess.run(
        [str(BIN / "ccops"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=offline["env"],
        stdin=subprocess.DEVNULL,  # a prompt would be refused too: the line below tells them apart
        timeout=120,
        check=False,
    )
    assert proc.returncode == EXIT_REFUSED, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "marked offline" in lines[0], proc.stderr
    assert lines[0].startswith(f"{offline['inventory'] / 'ccops.yml'}:"), lines[0]
    assert proc.stdout == ""  # no plan, no fingerprints, no prompt before the refusal
    assert sorted(p.name for p in offline["markers"].iterdir()) == []
    assert not (offline["home"] / "runs").exists() or not any((offline["home"] / "runs").iterdir())
    listed = subprocess.run(
        [str(BIN / "ccops"), "runs", "list", "-o", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=offline["env"],
        timeout=60,
        check=True,
    )
    runs = payload(listed.stdout)
    if path == "schedule run":  # an unattended firing records its refusal (and contacts nothing)
        assert [(r["run_id"], r["status"]) for r in runs][1:] == [(RUN_ID, "running")] and runs[0][
            "status"
        ] == "refused"
        return
    assert [r["run_id"] for r in runs] == [RUN_ID]  # no new run was recorded
