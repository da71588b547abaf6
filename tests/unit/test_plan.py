"""Waves and batches: explicit, complete, and never an implicit batch size."""

import pytest

from ccops.errors import CcopsError
from ccops.inventory.load import load_inventory
from ccops.plan.build import host_actions, rollout_waves
from ccops.verbs import Step, Verb, get_verb
from tests.conftest import EXAMPLE, site_text, write_inventory

CHANGING = Verb(
    "change", "inspect.yml", "inspect", ("active",), True, "a changing verb", steps=(Step("asset", "inspect"),)
)


def test_waves_cover_every_host_once_canary_first(tmp_path):
    inventory = load_inventory(write_inventory(tmp_path / "inv", {"a.yml": site_text(count=9)}))
    waves = rollout_waves(inventory, CHANGING, list(inventory.hosts.values()))
    assert [w.name for w in waves] == ["canary", "wave 1 (50%)", "wave 2 (100%)"]
    assert [len(w.hosts) for w in waves] == [1, 4, 4]
    assert [len(b.hosts) for b in waves[1].batches] == [2, 2]
    names = [h.name for w in waves for h in w.hosts]
    assert sorted(names) == sorted(inventory.hosts) and len(set(names)) == len(names)


def test_no_batch_size_means_no_run(tmp_path):
    text = site_text(count=9).replace(", batch_size: 2", "")
    inventory = load_inventory(write_inventory(tmp_path / "inv", {"a.yml": text}))
    with pytest.raises(CcopsError, match=r"no rollout\.batch_size"):
        rollout_waves(inventory, CHANGING, list(inventory.hosts.values()))
    waves = rollout_waves(inventory, CHANGING, list(inventory.hosts.values()), batch_size=3)
    assert max(len(b.hosts) for w in waves for b in w.batches) == 3


def test_canary_spreads_over_groups():
    inventory = load_inventory(EXAMPLE)
    site_hosts = [h for h in inventory.hosts.values() if h.site == "shapd"]
    canary = rollout_waves(inventory, CHANGING, site_hosts)[0]
    assert canary.name == "canary" and len({h.group for h in canary.hosts}) == 5


def test_actions_show_os_family_task_files_and_changed_variables():
    inventory = load_inventory(EXAMPLE)
    actions = host_actions(get_verb("inspect"), list(inventory.hosts.values()), inventory)
    by_os = {}
    for action in actions:
        by_os.setdefault(action.os, []).append(action)
    assert by_os["win11"][0].tasks == ["asset: inspect_windows.yml"]
    assert by_os["debian12"][0].tasks == ["asset: inspect_debian.yml"]
    assert by_os["debian12"][0].steps[0].file == "roles/asset/tasks/inspect_debian.yml"
    # the example sites set asset_log_lines: 100 (default 50); one server per site overrides its services
    assert all(a.vars.get("asset_log_lines") == 100 for a in actions)
    assert any(
        a.vars.get("asset_key_services") == ["ssh", "cron", "postgresql"]
        and sorted(a.hosts) == ["njjy-db0001", "shapd-db0001", "shaxh-db0001"]
        for a in actions
    )
    assert sum(len(a.hosts) for a in actions) == 3200
