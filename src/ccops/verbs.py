"""The lifecycle verbs ccops knows: which playbook, which roles, which hosts."""

from __future__ import annotations

from dataclasses import dataclass

from ccops.errors import CcopsError


@dataclass(frozen=True)
class Verb:
    name: str
    playbook: str  # under playbooks/
    roles: tuple[str, ...]  # role and the action it runs (tasks/<action>.yml)
    action: str
    lifecycle: tuple[str, ...]  # lifecycle states the verb may touch
    changes_hosts: bool  # changing verbs roll out in waves with an explicit batch size
    summary: str


VERBS = {
    verb.name: verb
    for verb in (
        Verb("inspect", "inspect.yml", ("asset",), "inspect", ("active", "retiring"), False,
             "collect each host's asset record: OS, hardware, packages, updates, disks, services, logs"),
        Verb("patch", "patch.yml", ("patch", "backup", "restore_card"), "patch", ("active",), True,
             "pre-checks, verified backup, updates, reboot, health check, backup after, re-baseline"),
        Verb("rollback", "rollback.yml", ("backup",), "rollback", ("active", "retiring"), False,
             "restore a chosen verified backup on one host"),
    )
}


def get_verb(name: str) -> Verb:
    try:
        return VERBS[name]
    except KeyError:
        raise CcopsError(f"unknown verb {name!r}; known: {', '.join(VERBS)}") from None
