"""Per-site execution nodes on ansible-runner's streaming protocol.

A site may name an execution node (``site.node``). ``ccops node prepare`` installs the
controller's pinned ansible-core, ansible-runner and collections on it; every batch of
that site then goes ``ansible-runner transmit`` (here) | ssh node ``ansible-runner worker``
| ``ansible-runner process`` (here), so events reach the same per-host judgement, gates
and records as a direct run, while waves and gates stay on the jump host.
"""
