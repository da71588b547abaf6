"""`ccops plan --help` lists every verb as it is typed; the registry's hyphenated names are refused."""

from __future__ import annotations

from ccops.errors import EXIT_USAGE
from ccops.verbs import VERBS
from tests.conftest import EXAMPLE, ccops_env


def test_plan_help_lists_its_verbs_in_80_columns(ccops):
    result = ccops("plan", "--help", env={**ccops_env(ccops.home), "COLUMNS": "80"})
    assert result.returncode == 0, result.stderr
    verbs = result.stdout.split("Verbs (typed as words):", 1)[1]
    for name in VERBS:
        assert f"  {name.replace('-', ' ')}  " in verbs, name
    assert "software-apply" not in verbs
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_plan_refuses_an_internal_name_and_says_the_words(ccops):
    refused = ccops("plan", "software-apply", "-i", str(EXAMPLE), "--site", "njjy")
    assert refused.returncode == EXIT_USAGE and "ccops plan software apply" in refused.stderr
    assert refused.stderr.count("\n") == 1 and refused.stdout == ""
    spoken = ccops("plan", "software", "apply", "-i", str(EXAMPLE), "--site", "njjy")
    assert spoken.returncode == 0, spoken.stderr
