"""The seam between the run loop and what executes a batch.

The run loop (waves, gates, refusals, interrupts, records) takes an engine: the real
one runs the verb's playbook through ansible-runner; tests drive the loop with a
scripted engine that answers with the events a real Ansible run sends.
"""

from __future__ import annotations

from typing import Protocol

from ccops.inventory.model import Inventory
from ccops.runner.engine import Batch, Execution


class Engine(Protocol):
    def run(self, batch: Batch, execution: Execution) -> str:
        """Run one batch, feeding every event to the execution's collector; return ansible-runner's status."""
        ...


class AnsibleEngine:
    """ansible-playbook through ansible-runner: what every real run uses."""

    def run(self, batch: Batch, execution: Execution) -> str:
        from ccops.runner.engine import run_batch

        return run_batch(batch, execution)


def default_engine(inventory: Inventory) -> Engine:
    """Direct runs from this jump host, unless a site names an execution node (site.node):
    then that site's batches go through its node. CCOPS_NODES=off runs every site from here."""
    import os

    if os.environ.get("CCOPS_NODES") == "off" or not any(s.node for s in inventory.sites.values()):
        return AnsibleEngine()
    from ccops.node.engine import SiteRouter

    return SiteRouter(inventory, AnsibleEngine())
