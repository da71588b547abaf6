"""The node helper's jobs folder: ccops-node-<uid> for users; another name only of the same form."""

from __future__ import annotations

import json
import os

import pytest

from ccops.node import ccops_node


def test_a_node_keeps_its_jobs_in_the_folder_of_its_user(monkeypatch):
    monkeypatch.delenv("CCOPS_NODE_JOBS_FOLDER", raising=False)
    assert ccops_node.jobs_folder_name() == f"ccops-node-{os.getuid()}"


def test_a_run_may_name_its_own_jobs_folder(monkeypatch):
    monkeypatch.setenv("CCOPS_NODE_JOBS_FOLDER", "ccops-node-test-41-ab12")
    assert ccops_node.jobs_folder_name() == "ccops-node-test-41-ab12"


@pytest.mark.parametrize("name", ["../etc", "ccops-node-../../etc", "ccops-node-a/b", "tmp", "ccops-node-"])
def test_a_jobs_folder_that_is_not_one_plain_name_is_refused(monkeypatch, capsys, name):
    monkeypatch.setenv("CCOPS_NODE_JOBS_FOLDER", name)
    with pytest.raises(SystemExit) as stop:
        ccops_node.jobs_folder_name()
    assert stop.value.code == 3
    assert "CCOPS_NODE_JOBS_FOLDER" in json.loads(capsys.readouterr().out)["ccops_error"]
