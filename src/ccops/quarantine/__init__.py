"""Quarantine: hosts held apart from the rest of their site until they are put right.

A hold is a row of the store (holds.py): per host, since when, why, whether a person
set it (``manual``: lifted only by a person) or the site's ``quarantine:`` policy did
(``automatic``: lifted by ``ccops quarantine evaluate`` after a passing check), the run
that applied it and the run that lifted it. What a hold means on the network is computed
in ccops.inventory.compliance: the held host's firewall admits only the site's management addresses,
node, distribution point and backup target; every other host's allow-list leaves it out.
Every change of a hold is a ``comply --fix`` run on the held host (apply.py), recorded
with its reason. evaluate.py decides, purely, which hosts the policy holds and lifts.
"""
