"""Filter ccops_win_comply: a Windows seat's raw comply facts against its policy (ccops.windows.comply).

The decision is made here, on the controller, where tests see it; the seat only reported facts.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ccops.windows.comply import DamagedFacts, decide


def ccops_win_comply(facts, policy, keep_admins=()):
    try:
        return decide(dict(policy or {}), facts, [str(k) for k in keep_admins or []])
    except DamagedFacts as exc:
        raise AnsibleFilterError(f"comply: the seat's facts are damaged: {exc}") from None


class FilterModule:
    def filters(self):
        return {"ccops_win_comply": ccops_win_comply}
