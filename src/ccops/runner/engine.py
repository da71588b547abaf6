"""The one place ccops runs playbooks: ansible-runner's Python interface.

A run is split into batches; each batch is one ansible-playbook process over
an explicit host list. Because batches are independent, one run can later be
spread over several processes (or ansible-runner's worker protocol) to use
more than the one core Ansible's parent process uses.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccops.errors import EngineError
from ccops.paths import project_root
from ccops.processes import stop_batch_leftovers
from ccops.runner.events import EventCollector
from ccops.runner.sshcontrol import batch_control_dir
from ccops.text.templating import refuse_templates

REDACTED = "<redacted by ccops>"
# What Ansible inherits from the operator's environment: locale, identity, the SSH agent,
# Kerberos tickets and ccops's own settings. Everything else (an operator's ANSIBLE_*
# overrides, unrelated API keys) stays out of Ansible's environment and its artifacts.
_INHERITED = re.compile(
    r"^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|TERM|SSH_AUTH_SOCK"
    r"|KRB5CCNAME|KRB5_CONFIG|PYTHONPATH|VIRTUAL_ENV|CCOPS_[A-Z0-9_]+)$"
)
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

    def __post_init__(self) -> None:
        # every batch passes here, whatever engine runs it: what a run computed on the way
        # (a host's backup report handed to a later stage) is refused like what an operator typed
        refuse_templates(self.extravars)


@dataclass(frozen=True)
class Execution:
    """How one batch runs, whatever engine runs it: where its artifacts go, who hears
    its events, when it must stop, which environment values are secrets, and who is
    told the ansible-playbook pid (so a killed controller's successor can find it)."""

    run_dir: Path
    collector: EventCollector
    cancelled: Callable[[], bool]
    secret_env: set[str]
    on_ansible: Callable[[int], None] | None = None


def run_batch(batch: Batch, execution: Execution) -> str:
    """Run one batch; returns ansible-runner's status (successful, failed, canceled, timeout).

    The execution's ``on_ansible`` is told the ansible-playbook process's pid once, at its first event (ansible-runner
    keeps the pexpect child to itself; every event carries the pid of the process that sent it), before
    any task has reached a host, so that a killed controller's successor can find that process.
    """
    import ansible_runner  # imported here: ccops --help must not pay for it

    run_dir, collector, secret_env = execution.run_dir, execution.collector, execution.secret_env
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
        # ansible-runner turns host key checking off unless told otherwise; ccops never does
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "PYTHONUNBUFFERED": "1",
    }

    def scrub_on_launch(status: dict[str, Any], runner_config: Any = None) -> None:
        if runner_config is None:
            return
        if status.get("status") == "starting":
            # before ansible-runner writes artifacts/<ident>/command and spawns Ansible
            runner_config.env = ansible_environment(runner_config.env, env, secret_env)
        elif status.get("status") == "running":
            scrub_command_file(Path(runner_config.artifact_dir), secret_env)

    told: list[int] = []

    def handle_event(event: dict[str, Any]) -> bool:
        pid = event.get("pid")
        if execution.on_ansible is not None and not told and isinstance(pid, int) and _is_our_child(pid):
            told.append(pid)
            execution.on_ansible(pid)
        return collector(event)

    with batch_control_dir() as control_dir:
        env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(control_dir)
        try:
            result = _run_runner(ansible_runner, execution, batch, limit_file, env, handle_event, scrub_on_launch)
        except (OSError, ansible_runner.exceptions.ConfigurationError) as exc:
            raise launch_failure(exc, env["PATH"]) from exc
        # a cancelled batch can leave Ansible workers (their own sessions) working on hosts
        stop_batch_leftovers(limit_file)
    artifacts = Path(result.config.artifact_dir)
    scrub_command_file(artifacts, secret_env)
    if collector.stats is None and result.rc == 127:  # ansible-runner's answer when pexpect found no program
        raise EngineError(f"could not start ansible-playbook: {_tail(artifacts / 'stdout')}")
    if collector.stats is None and result.status not in ("canceled",):
        raise EngineError(
            f"Ansible did not run the playbook ({result.status}, rc={result.rc}): "
            f"{_tail(artifacts / 'stdout')} (artifacts: {artifacts})"
        )
    status: str = result.status  # ansible-runner is untyped; its Runner.status is a str
    return status


def _run_runner(
    ansible_runner: Any,
    execution: Execution,
    batch: Batch,
    limit_file: Path,
    env: dict[str, str],
    handle_event: Callable[[dict[str, Any]], bool],
    scrub_on_launch: Callable[..., None],
) -> Any:
    return ansible_runner.run(
        private_data_dir=str(execution.run_dir),
        project_dir=str(project_root()),
        ident=batch.ident,
        playbook=batch.playbook,
        inventory=str(batch.inventory),
        limit=f"@{limit_file}",
        extravars=batch.extravars,
        forks=batch.forks,
        envvars=env,
        event_handler=handle_event,
        status_handler=scrub_on_launch,
        cancel_callback=execution.cancelled,
        quiet=True,
        suppress_env_files=True,  # never write extravars/passwords/envvars under env/
        rotate_artifacts=0,
    )


def launch_failure(exc: BaseException, path: str, program: str = "ansible-playbook") -> EngineError:
    """Ansible that cannot be started (missing, not executable, its interpreter gone), in one line."""
    found = shutil.which(program, path=path)
    where = found or f"not on PATH {path}"
    code = exc.errno if isinstance(exc, OSError) else None
    reason = os.strerror(code) if code else (str(exc).splitlines() or [type(exc).__name__])[0][:200]
    if code == errno.ENOENT and found:  # the program is there: what exec could not find is its interpreter
        reason += " (the interpreter on its #! line is missing?)"
    return EngineError(f"could not start {program} ({where}): {reason}")


def ansible_environment(
    built: dict[str, str], ours: dict[str, str], secret_env: set[str], operator: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment Ansible runs with: what ansible-runner and ccops set, plus an allow-list.

    ansible-runner seeds the job's environment with the operator's whole one; keep only the
    variables it added or changed, ccops's own, the allow-listed ones and the inventory's
    secret references (Ansible looks those up at run time; artifacts get them redacted).
    """
    seen: Mapping[str, str] = os.environ if operator is None else operator
    out = {}
    for key, value in built.items():
        added_by_runner = seen.get(key) != value
        if added_by_runner or key in ours or key in secret_env or _INHERITED.match(key):
            out[key] = value
    out.update(ours)
    return out


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


def _is_our_child(pid: int) -> bool:
    try:
        ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return False
    return ppid == os.getpid()


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no output"
    return " | ".join(line.strip() for line in text[-lines:]) or "no output"
