"""The one place ccops runs playbooks: ansible-runner's Python interface.

A run is split into batches; each batch is one ansible-playbook process over
an explicit host list. Because batches are independent, one run can later be
spread over several processes (or ansible-runner's worker protocol) to use
more than the one core Ansible's parent process uses.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccops.errors import EngineError
from ccops.paths import project_root
from ccops.runner.events import EventCollector

REDACTED = "<redacted by ccops>"
# names that look like secrets are scrubbed from artifacts even when no inventory declares them
_SECRET_NAME = re.compile(r"PASS|SECRET|TOKEN|CREDENTIAL|VAULT|PRIVATE_KEY", re.IGNORECASE)


@dataclass
class Batch:
    ident: str  # unique inside the run, names the artifact folder
    playbook: str  # relative to the project root
    inventory: Path  # the inventory's ccops.yml: Ansible reads it through the ccops plugin
    hosts: list[str]
    extravars: dict[str, Any]
    forks: int


def run_batch(run_dir: Path, batch: Batch, collector: EventCollector,
              cancelled: Callable[[], bool], secret_env: set[str]) -> str:
    """Run one batch; returns ansible-runner's status (successful, failed, canceled, timeout)."""
    import ansible_runner  # imported here: ccops --help must not pay for it

    run_dir.mkdir(parents=True, exist_ok=True)
    limit_file = run_dir / f"limit-{batch.ident}"
    limit_file.write_text("\n".join(batch.hosts) + "\n")
    env = {
        "ANSIBLE_CONFIG": str(project_root() / "ansible.cfg"),
        # ccops may be started as .venv/bin/ccops without an activated venv
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_FORCE_COLOR": "0",
        # an inventory Ansible cannot parse stops the run instead of matching no hosts
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "PYTHONUNBUFFERED": "1",
    }

    def scrub_on_launch(status: dict, runner_config: Any = None) -> None:
        # ansible-runner writes the whole environment to artifacts/<ident>/command
        # before it starts Ansible; rewrite it the moment the child's env is built.
        if status.get("status") == "running" and runner_config is not None:
            scrub_command_file(Path(runner_config.artifact_dir), secret_env)

    result = ansible_runner.run(
        private_data_dir=str(run_dir),
        project_dir=str(project_root()),
        ident=batch.ident,
        playbook=batch.playbook,
        inventory=str(batch.inventory),
        limit=f"@{limit_file}",
        extravars=batch.extravars,
        forks=batch.forks,
        envvars=env,
        event_handler=collector,
        status_handler=scrub_on_launch,
        cancel_callback=cancelled,
        quiet=True,
        suppress_env_files=True,  # never write extravars/passwords/envvars under env/
        rotate_artifacts=0,
    )
    artifacts = Path(result.config.artifact_dir)
    scrub_command_file(artifacts, secret_env)
    if collector.stats is None and result.status not in ("canceled",):
        raise EngineError(f"Ansible did not run the playbook ({result.status}, rc={result.rc}): "
                          f"{_tail(artifacts / 'stdout')} (artifacts: {artifacts})")
    return result.status


def scrub_command_file(artifact_dir: Path, secret_env: set[str]) -> None:
    path = artifact_dir / "command"
    if not path.exists():
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    env = data.get("env") or {}
    for key in env:
        if key in secret_env or _SECRET_NAME.search(key):
            env[key] = REDACTED
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no output"
    return " | ".join(line.strip() for line in text[-lines:]) or "no output"
