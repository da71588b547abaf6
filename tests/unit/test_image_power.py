"""Who powers a new machine on for ccops deploy: the installed power controls, else a person."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccops.image.power import installed_controls, power_on_into_netboot
from ccops.inventory.model import Host
from ccops.lab import vms


def machine(name: str, mac: str) -> Host:
    return Host(
        name=name, site="lab", group="agents", role="agent", os="debian12", business_line="voice",
        lifecycle="planned", connection="ssh", address=None, port=None, asset_tag=None, vars={},
        source=("site.yml", 1), mac=mac,
    )  # fmt: skip


def test_the_first_control_that_knows_the_machine_powers_it_on() -> None:
    asked: list[str] = []

    def stranger(host: Host) -> str:
        asked.append("stranger")
        return ""

    def owner(host: Host) -> str:
        asked.append("owner")
        return f"ipmi {host.name}"

    host = machine("pc-01", "52:54:00:cc:00:01")
    assert power_on_into_netboot(host, [stranger, owner, stranger]) == "ipmi pc-01"
    assert asked == ["stranger", "owner"]


def test_a_machine_no_control_knows_is_left_to_a_person() -> None:
    assert power_on_into_netboot(machine("pc-01", "52:54:00:cc:00:01"), [lambda host: ""]) == ""
    assert power_on_into_netboot(machine("pc-01", "52:54:00:cc:00:01"), []) == ""


def test_the_lab_offers_its_machines_through_the_entry_point_not_an_import() -> None:
    """ccops deploy in the lab powers its QEMU machines on; the product never imports the lab for it."""
    assert vms.power_on in installed_controls()


def test_the_lab_control_answers_only_for_its_own_machines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path))
    folder = vms.vm_dir() / "lab-vm-01"
    folder.mkdir(parents=True)
    (folder / "vm.json").write_text(json.dumps({"name": "lab-vm-01", "mac": "52:54:00:cc:01:01", "ssh_port": 40001}))
    started: list[str] = []
    monkeypatch.setattr(vms, "start", lambda vm, netboot_first=False: started.append(vm.name) or 4242)
    monkeypatch.setattr(vms, "stop", lambda vm, timeout=20: None)

    assert vms.power_on(machine("pc-01", "52:54:00:cc:01:01")) == ""  # not a lab machine
    assert vms.power_on(machine("lab-vm-01", "52:54:00:cc:09:09")) == ""  # its name, another card
    assert started == []
    assert vms.power_on(machine("lab-vm-01", "52:54:00:cc:01:01")) == "lab (QEMU pid 4242)"
    assert started == ["lab-vm-01"]
