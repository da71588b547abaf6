"""What Ansible inherits from the operator: a minimal environment, host key checking forced on.

A real run against a loopback host that never answers; the artifacts ansible-runner
writes (artifacts/*/command holds the child's whole environment) are then read back.
"""

from __future__ import annotations

import json

from tests.conftest import ccops_env, run_ccops, site_text, write_inventory


def test_unrelated_secrets_stay_out_and_host_key_checking_stays_on(ccops, tmp_path):
    inventory = write_inventory(tmp_path / "inv", {"tst.yml": site_text("tst", 1, "127.0.0.9")})
    env = {
        **ccops_env(ccops.home),
        "MY_API_KEY": "api-key-canary-7731",
        "DB_PWD": "db-canary-5519",
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_SSH_ARGS": "-o StrictHostKeyChecking=no",
    }
    result = run_ccops(ccops.home, "inspect", "-i", str(inventory), "--output", "json", env=env)
    assert result.returncode == 2, result.stderr  # unreachable, as expected
    commands = list((ccops.home / "runs").glob("*/artifacts/*/command"))
    assert commands, "the run left no artifacts to check"
    for command in commands:
        child_env = json.loads(command.read_text())["env"]
        assert "MY_API_KEY" not in child_env and "DB_PWD" not in child_env
        assert child_env["ANSIBLE_HOST_KEY_CHECKING"] == "True"
        assert "ANSIBLE_SSH_ARGS" not in child_env
    for path in ccops.home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"api-key-canary-7731" not in data and b"db-canary-5519" not in data, path
