"""What reaches a playbook as an extra variable is data: a value Ansible would template is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccops.errors import UsageError
from ccops.runner.engine import Batch


def _batch(extravars: dict) -> Batch:
    return Batch("w1-b1-a1", "playbooks/deploy.yml", Path("inv/ccops.yml"), ["h1"], extravars, 5)


@pytest.mark.parametrize(
    ("extravars", "named"),
    [
        ({"ccops_change_id": "CHG-{{ lookup('pipe','id') }}"}, "ccops_change_id"),
        # what a host reported (a backup manifest) handed to the next stage of the same run
        ({"ccops_rebuild_backups": {"h1": {"paths": ["/etc", "{% raw %}"]}}}, "ccops_rebuild_backups.h1.paths[1]"),
        ({"software_desired": [{"app": "x", "{# k #}": 1}]}, "software_desired[0].{# k #}"),
        ({"note": "#jinja2:variable_start_string:'[['"}, "note"),
    ],
)
def test_a_batch_refuses_a_value_ansible_would_template(extravars, named):
    with pytest.raises(UsageError, match="would be templated by Ansible") as refused:
        _batch(extravars)
    assert str(refused.value).startswith(f"{named}: ")


def test_data_that_only_looks_odd_passes():
    values = {"ccops_change_id": "CHG-1 {x} %y #z", "paths": ["/etc/{a}", "$(id)"], "n": 3, "none": None}
    assert _batch(values).extravars == values
