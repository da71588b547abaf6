"""Whose access a Windows decommission's release removes, decided on the controller (W5):
never the connection account's, whatever spelling the inventory gives it."""

from __future__ import annotations

import pytest

from ccops.windows.release import release_plan

GROUPS = ["Administrators", "Remote Management Users"]


@pytest.mark.parametrize("connection", ["CORP\\svc-ccops", "svc-ccops@CORP.EXAMPLE", ".\\svc-ccops", "SVC-CCOPS"])
def test_the_connection_account_is_never_released_in_any_spelling(connection):
    plan = release_plan(["svc-ccops", "CORP\\helpdesk"], connection, GROUPS)
    assert plan["accounts"] == ["CORP\\helpdesk"]
    assert {a["account"] for a in plan["rights"] + plan["groups"]} == {"CORP\\helpdesk"}
    assert plan["kept"] == connection


def test_one_action_per_account_and_right_and_per_account_and_group():
    plan = release_plan(["CORP\\helpdesk", "CORP\\helpdesk", "tech"], "svc-ccops", GROUPS)
    assert plan["rights"] == [
        {"account": "CORP\\helpdesk", "right": "SeNetworkLogonRight"},
        {"account": "CORP\\helpdesk", "right": "SeRemoteInteractiveLogonRight"},
        {"account": "tech", "right": "SeNetworkLogonRight"},
        {"account": "tech", "right": "SeRemoteInteractiveLogonRight"},
    ]
    assert len(plan["groups"]) == 4


def test_nothing_declared_releases_nothing():
    assert release_plan([], "svc-ccops", GROUPS) == {"accounts": [], "rights": [], "groups": [], "kept": "svc-ccops"}
