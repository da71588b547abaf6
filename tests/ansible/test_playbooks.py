"""Every playbook passes a syntax check, and the tree passes ansible-lint's production profile."""

import subprocess

import pytest

from tests.conftest import BIN, EXAMPLE, ROOT, ccops_env

PLAYBOOKS = sorted(p.name for p in (ROOT / "playbooks").glob("*.yml"))


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_syntax_check(playbook, tmp_path):
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "--syntax-check", "-i", str(EXAMPLE), f"playbooks/{playbook}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=ccops_env(tmp_path),
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_ansible_lint_production_profile(tmp_path):
    result = subprocess.run(
        [
            str(BIN / "ansible-lint"),
            "--profile",
            "production",
            "--offline",
            "--nocolor",
            "playbooks",
            "roles",
            "molecule",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=ccops_env(tmp_path),
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_windows_inspection_uses_the_windows_collections():
    tasks = (ROOT / "roles" / "asset" / "tasks" / "inspect_windows.yml").read_text()
    for module in (
        "ansible.windows.win_updates",
        "ansible.windows.win_service_info",
        "ansible.windows.win_powershell",
        "ansible.windows.setup",
    ):
        assert module in tasks
    assert "state: searched" in tasks  # inspecting never installs an update
