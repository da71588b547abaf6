"""ccops completion SHELL, and host, site and run names completed from the inventory and the records."""

from __future__ import annotations

import subprocess

import pytest

from ccops.store.records import Store
from tests.conftest import BIN, EXAMPLE, ROOT, ccops_env
from tests.fleet_records import inspect, record


@pytest.mark.parametrize(
    ("shell", "marker"), [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "--command ccops")]
)
def test_completion_prints_the_script_for_each_shell(ccops, shell, marker):
    result = ccops("completion", shell)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout and "_CCOPS_COMPLETE" in result.stdout


def test_completion_refuses_an_unknown_shell(ccops):
    assert ccops("completion", "tcsh").returncode == 64


def _complete(home, words: str) -> list[str]:
    """What bash is offered for the last of ``words`` (click's bash protocol: TYPE,VALUE lines)."""
    env = {**ccops_env(home), "_CCOPS_COMPLETE": "bash_complete", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    proc = subprocess.run([str(BIN / "ccops")], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines() if line]


def test_host_site_and_run_names_are_completed(tmp_path):
    home = tmp_path / "home"
    offered = _complete(home, f"ccops host show -i {EXAMPLE} njjy-db00")
    assert offered[:2] == ["njjy-db0001", "njjy-db0002"] and all(h.startswith("njjy-db00") for h in offered)
    assert "shapd-db0001" in _complete(home, f"ccops plan inspect -i {EXAMPLE} --limit shapd-")
    assert _complete(home, f"ccops inventory list -i {EXAMPLE} --site sha") == ["shapd", "shaxh"]
    # no records yet: nothing offered, and no store created by a completion
    assert _complete(home, "ccops runs show 2026") == []
    assert not (home / "ccops.db").exists()
    inspect(Store(home / "ccops.db"), "20261120T060000Z-aaaaaa", {"njjy-db0001": record()})
    assert _complete(home, "ccops runs show 2026") == ["20261120T060000Z-aaaaaa"]
    assert _complete(home, "ccops resume 2026") == ["20261120T060000Z-aaaaaa"]


def test_a_broken_inventory_completes_nothing_and_says_nothing(tmp_path):
    broken = tmp_path / "inv"
    broken.mkdir()
    (broken / "ccops.yml").write_text("plugin: [unclosed\n")
    assert _complete(tmp_path / "home", f"ccops host show -i {broken} nj") == []
