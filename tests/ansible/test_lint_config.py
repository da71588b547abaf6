"""A bare `ansible-lint` in the repository checks what CI checks (test_playbooks.py's lint run)."""

import subprocess

import yaml

from tests.conftest import ROOT

LINTED_BY_CI = ("playbooks/", "roles/", "molecule/")  # the folders tests/ansible/test_playbooks.py lints


def test_ansible_lint_config_pins_the_production_profile():
    config = yaml.safe_load((ROOT / ".ansible-lint").read_text())
    assert config["profile"] == "production" and config["offline"] is True


def test_a_bare_run_covers_the_folders_ci_lints_and_nothing_else():
    excluded = tuple(yaml.safe_load((ROOT / ".ansible-lint").read_text())["exclude_paths"])
    assert not any(folder.startswith(excluded) for folder in LINTED_BY_CI)
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "*.yml", "*.yaml"], capture_output=True, text=True, check=True
    ).stdout.split()
    stray = [f for f in tracked if not f.startswith((*LINTED_BY_CI, *excluded)) and f != ".ansible-lint"]
    assert stray == [], f"YAML a bare ansible-lint would check but CI does not: {stray}"
