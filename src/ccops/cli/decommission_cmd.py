"""ccops decommission: retire hosts for good, behind guards that refuse before any host is touched.

Built by the factory from its registry entry (its guard, the typed-names confirmation,
--include-servers); a module of its own only because it is not a plain verb: it takes
--confirm NAMES where the plain verbs take --yes (tests/cli/test_lazy_commands.py).
"""

from __future__ import annotations

from ccops.cli.verb_cmd import verb_command
from ccops.verbs import VERBS

decommission = verb_command(VERBS["decommission"])
