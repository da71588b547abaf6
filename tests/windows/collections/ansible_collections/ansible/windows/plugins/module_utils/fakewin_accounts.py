# Contract tests only: local accounts, groups, rights, profiles and certificates of a
# modelled seat, for the stand-ins of win_user, win_group_membership, win_user_right,
# win_user_profile, win_certificate_store and microsoft.ad.membership. state.json keys:
#   computer: the seat's name; domain: {"name", "accounts": {"DOM\\name": sid}} when a member
#   local_users: {name: {sid, enabled, full_name, password}}; password_min_length: int
#   groups: {group name: [member SIDs]} (a SID nobody has is an orphan, as ADSI lists it)
#   rights: {right: [SIDs]}; profiles: [folder names]; certificates: {thumbprint: {key: path}}
# Name resolution follows Ansible.ModuleUtils.SID's Convert-ToSID: a SID stays a SID;
# DOMAIN\name, .\name and HOST\name are split on the backslash; a bare name is local first.
from __future__ import annotations

import re

SID = re.compile(r"S-1-\d+(-\d+)+$")


class NotAnAccount(Exception):
    pass


def machine_sid(state: dict) -> str:
    return state.get("machine_sid", "S-1-5-21-1111111111-2222222222-3333333333")


def to_sid(state: dict, account: str) -> str:
    """Convert-ToSID: the message is the module's own when an account does not resolve."""
    if SID.match(account):
        return account
    if "\\" in account:
        parts = account.split("\\")
        domain = state["computer"] if parts[0] == "." else parts[0]
        username = parts[1]  # '.\\\\name' splits into '.', '', 'name': the user name is empty
    else:
        domain, username = None, account
    users = state.get("local_users", {})
    if domain is None or domain.lower() == state["computer"].lower():
        for name, user in users.items():
            if username and name.lower() == username.lower():
                return user["sid"]
        if domain is not None or not state.get("domain"):
            raise NotAnAccount(
                f"account_name {account} is not a valid account, cannot get SID: Exception calling "
                '"Translate" with "1" argument(s): "Some or all identity references could not be translated."'
            )
        domain = state["domain"]["name"]
    for name, sid in (state.get("domain") or {}).get("accounts", {}).items():
        if name.lower() == f"{domain}\\{username}".lower():
            return sid
    raise NotAnAccount(f'account_name {account} is not a valid account, cannot get SID: Exception calling "Translate"')


def from_sid(state: dict, sid: str) -> str:
    for name, user in state.get("local_users", {}).items():
        if user["sid"] == sid:
            return f"{state['computer']}\\{name}"
    for name, dsid in (state.get("domain") or {}).get("accounts", {}).items():
        if dsid == sid:
            return name
    return sid  # an orphan: the module shows the SID itself
