"""One node job as it travels: the project, a rendered inventory, and the environment.

The private data folder that ``ansible-runner transmit`` streams holds no secret: the
playbooks, the roles, the ccops inventory plugin (with the few ccops modules it
imports), the known_hosts files the batch's hosts are checked against, and the batch's
hosts rendered for the node (secrets become environment lookups, the ssh key is left
out: the node reaches hosts through the job's forwarded agent). Secret values travel
only in the job's ``envvars``, inside the ssh stream, and live on the node only in its
memory-backed job folder and in the processes' memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccops.inventory.export import SECRET_VARS, secret_template
from ccops.paths import project_root

# the inventory plugin imports ccops modules (the inventory package, and what that imports: the
# compliance resolver, ...): the job carries every module of the package, never a list that
# goes stale when an import is added (a missing one makes Ansible fall back to matching no host)
PLUGIN_MODULES = ("**/*.py",)
SNAPSHOT_NAME = "hosts.ccops-snapshot.json"


@dataclass
class NodeJob:
    """The job's folder on the jump host (streamed by transmit) and what only its stream carries."""

    staged: Path  # the private data folder transmit streams
    envvars: dict[str, str]
    secret_names: set[str] = field(default_factory=set)
    keys: list[str] = field(default_factory=list)  # the ssh keys the job's agent holds

    @property
    def inventory(self) -> str:
        return f"inventory/{SNAPSHOT_NAME}"


def stage_job(staged: Path, snapshot: Path, hosts: list[str], node_job: str, node_site: str) -> NodeJob:
    """Build the folder transmit streams; ``node_job`` is the job's folder on the node."""
    project = staged / "project"
    _copy_project(project)
    node_pdd = f"{node_job}/pdd"
    data = json.loads(snapshot.read_text(encoding="utf-8"))
    known: dict[str, str] = {}
    secrets: dict[str, str] = {}
    keys: list[str] = []
    out_hosts = {}
    for name in hosts:
        body = data["hosts"][name]
        out_hosts[name] = {**body, "vars": _node_vars(body["vars"], known, secrets, keys, node_pdd)}
    for source, relative in known.items():
        target = project / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(source).is_file():
            shutil.copyfile(source, target)
        else:
            target.write_text("")  # none recorded: every host is "unknown", as it would be here
    (staged / "inventory").mkdir(parents=True, exist_ok=True)
    rendered = {**data, "hosts": out_hosts}
    (staged / "inventory" / SNAPSHOT_NAME).write_text(json.dumps(rendered), encoding="utf-8")
    envvars = {
        "ANSIBLE_CONFIG": f"{node_pdd}/project/ansible.cfg",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_INVENTORY_UNPARSED_FAILED": "1",
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": f"{node_job}/cp",  # per job, closed when it ends
        "ANSIBLE_LOCAL_TEMP": f"{node_job}/tmp",  # noqa: S108 (the job's memory-backed folder on the node)
        "PYTHONPATH": f"{node_site}:{node_pdd}/project/src",
        "PYTHONUNBUFFERED": "1",
        **secrets,
    }
    return NodeJob(staged, envvars, set(secrets), keys)


def _node_vars(
    hostvars: dict[str, Any], known: dict[str, str], secrets: dict[str, str], keys: list[str], node_pdd: str
) -> dict[str, Any]:
    out = dict(hostvars)
    key = out.pop("ansible_ssh_private_key_file", None)
    if key and key not in keys:
        keys.append(key)
    if out.get("ansible_ssh_common_args"):
        args = shlex.split(out["ansible_ssh_common_args"])
        for i, arg in enumerate(args):
            if arg.startswith("UserKnownHostsFile="):
                source = arg.split("=", 1)[1]
                relative = known.setdefault(source, f"known_hosts/{len(known)}")
                args[i] = f"UserKnownHostsFile={node_pdd}/project/{relative}"
        out["ansible_ssh_common_args"] = shlex.join(args)
    for var in SECRET_VARS:
        short = var.removeprefix("ansible_")
        by_file, by_env = f"ccops_secret_{short}_file", f"ccops_secret_{short}_env"
        if by_file in out:
            path = out.pop(by_file)
            name = f"CCOPS_NODE_SECRET_{hashlib.sha256(path.encode()).hexdigest()[:12].upper()}"
            # Ansible's file lookup strips trailing whitespace: the same value here
            secrets[name] = _read_secret(path)
            out[var], out[by_env] = secret_template(var, "env"), name
        elif by_env in out:
            secrets[out[by_env]] = os.environ.get(out[by_env], "")
    return out


def _read_secret(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").rstrip()
    except OSError:
        return ""  # as Ansible's lookup would fail on the jump host, the host fails to log in


def _copy_project(project: Path) -> None:
    root = project_root()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for folder in ("playbooks", "roles"):
        shutil.copytree(root / folder, project / folder, ignore=ignore)
    package = Path(__file__).resolve().parent.parent  # the ccops package
    for pattern in PLUGIN_MODULES:
        for module in sorted(package.glob(pattern)):
            if "_tree" in module.relative_to(package).parts:  # a wheel's copy of the Ansible tree
                continue
            target = project / "src" / "ccops" / module.relative_to(package)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(module, target)
    config = (root / "ansible.cfg").read_text(encoding="utf-8")
    # the job's layout, whatever this install's is (a checkout or a wheel's ccops/_tree)
    config = re.sub(r"(?m)^inventory_plugins\s*=.*$", "inventory_plugins = src/ccops/ansible_plugins/inventory", config)
    config = re.sub(r"(?m)^inventory\s*=.*$", "", config)
    (project / "ansible.cfg").write_text(config, encoding="utf-8")
