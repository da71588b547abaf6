"""ccops decommission refuses, one line and exit 5, before any host is contacted; the plan shows
what each host loses. Hosts sit at 127.0.0.9, where nothing answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccops.inventory.load import load_inventory
from ccops.inventory.writer import set_host_fields
from tests.cli.test_hostile_inventory import BASE
from tests.json_output import payload

SITE = BASE.replace("  backup_target:", "  decommission: {max_hosts: 3, end_state: hand_back}\n  backup_target:") + (
    "  - name: crm\n"
    "    role: crm_server\n"
    "    os: debian12\n"
    "    business_line: shared\n"
    "    connection: linux\n"
    "    hosts: tst-crm01\n"
    "    addresses: 127.0.0.19\n"
    "    lifecycle: retiring\n"
    "  - name: old-agents\n"
    "    role: agent_desktop\n"
    "    os: debian12\n"
    "    business_line: voice\n"
    "    connection: linux\n"
    "    hosts: tst-r0[1:4]\n"
    "    addresses: 127.0.0.20\n"
    "    lifecycle: retiring\n"
    "    vars: {decommission_accounts: [agent1], decommission_data_paths: [/srv/recordings]}\n"
)


@pytest.fixture
def inv(tmp_path: Path) -> Path:
    folder = tmp_path / "inv"
    (folder / "sites").mkdir(parents=True)
    (folder / "ccops.yml").write_text("plugin: ccops\nsites: sites\n")
    (folder / "sites" / "tst.yml").write_text(SITE)
    return folder


def _decommission(ccops, inv: Path, *args: str):
    return ccops("decommission", "-i", str(inv), "--change-id", "CHG-D1", "--output", "json", *args, timeout=300)


def _refused(result, *words: str) -> None:
    assert result.returncode == 5, result.stdout + result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line, line
    for word in words:
        assert word in line, line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--limit", "tst-a01", "--confirm", "tst-a01"], ["tst-a01 (active)", "retiring"]),
        (["--limit", "tst-r01", "--limit", "tst-a02", "--confirm", "tst-r01 tst-a02"], ["tst-a02 (active)"]),
        (["--limit", "tst-crm01", "--confirm", "tst-crm01"], ["--include-servers", "tst-crm01 (crm_server)"]),
        (["--limit", "tst-r0*", "--confirm", "tst-r01 tst-r02 tst-r03 tst-r04"], ["4 hosts", "the 3", "max_hosts"]),
        (["--limit", "tst-r0[12]", "--confirm", "tst-r01 tst-r2"], ["not typed: tst-r02", "not selected: tst-r2"]),
        (["--limit", "tst-r0[12]", "--confirm", "tst-r01"], ["not typed: tst-r02"]),
        (["--limit", "tst-r0[12]", "--confirm", "tst-r01 tst-r02 tst-r03"], ["not selected: tst-r03"]),
        (["--limit", "tst-r0[12]"], ["--confirm"]),  # no terminal to type the names on
    ],
)
def test_every_guard_refuses_before_any_host_is_contacted(ccops, inv, args, words):
    before = (inv / "sites" / "tst.yml").read_text()
    _refused(_decommission(ccops, inv, *args), *words)
    assert (inv / "sites" / "tst.yml").read_text() == before
    runs = payload(ccops("runs", "list", "--output", "json", check=True).stdout)
    assert runs == []  # no run started: no host was contacted


def test_a_server_with_the_flag_and_exact_names_passes_the_guards(ccops, inv):
    result = _decommission(
        ccops, inv, "--limit", "tst-crm01", "--limit", "tst-r01", "--include-servers", "--confirm", "tst-r01,tst-crm01"
    )
    data = payload(result.stdout)
    assert result.returncode in (2, 3) and data["verb"] == "decommission"  # unreachable: nothing answers there
    assert {h["host"] for h in data["hosts"]} <= {"tst-crm01", "tst-r01"}
    assert "lifecycle: retiring" in (inv / "sites" / "tst.yml").read_text()  # nothing was retired
    runs = payload(ccops("runs", "show", data["run_id"], "--output", "json", check=True).stdout)
    assert runs["request"]["options"]["decommission_confirmed"] == ["tst-crm01", "tst-r01"]
    assert ccops("runs", "certificate", data["run_id"], "tst-r01").returncode == 1


def test_the_plan_lists_what_each_host_loses(ccops, inv):
    plan = payload(ccops("plan", "decommission", "-i", str(inv), "--limit", "tst-r01", "--output", "json").stdout)
    details = plan["decommission"]["tst-r01"]
    assert details["revoke"]["accounts"] == ["agent1"] and details["revoke"]["ssh_keys_of"] == "ccops"
    assert details["wipe"]["paths"] == ["/srv/recordings"] and "NIST SP 800-88" in details["wipe"]["method"]
    assert details["end_state"] == "hand_back" and "retiring -> retired" in details["inventory"]
    text = ccops("plan", "decommission", "-i", str(inv), "--limit", "tst-r01").stdout
    assert "wipe: /srv/recordings" in text and "accounts agent1" in text and "SSH keys of ccops (last)" in text
    markdown = ccops("plan", "decommission", "-i", str(inv), "--limit", "tst-r01", "--output", "markdown").stdout
    assert "| tst-r01 | agent1, 0 hook(s), SSH keys of ccops (last) | /srv/recordings | hand_back;" in markdown
    steps = [f"{t['role']}: {t['action']}" for t in plan["actions"][0]["tasks"]]
    assert steps.index("backup: backup") < steps.index("decommission: sanitise") < steps.index("decommission: release")


def test_retired_hosts_drop_out_of_every_other_verb(ccops, inv):
    set_host_fields(load_inventory(inv), "tst-a01", {"lifecycle": "retired", "retired_on": "2026-11-23"})
    for verb in ("inspect", "patch", "decommission"):
        plan = payload(ccops("plan", verb, "-i", str(inv), "--output", "json", check=True).stdout)
        planned = {h for w in plan["waves"] for b in w["batches"] for h in b["hosts"]}
        assert (
            "tst-a01" not in planned
            and "tst-a01" in {e["reason"]: e["hosts"] for e in plan["excluded"]}["lifecycle retired"]
        ), verb
    only = ccops("inspect", "-i", str(inv), "--limit", "tst-a01", "--output", "json")
    assert only.returncode == 5 and "retired" in only.stderr


@pytest.mark.parametrize("path", ["//", "//etc", "/./etc", "/etc/../usr", "/usr/lib"])
def test_a_data_path_that_names_a_system_folder_stops_plan_and_decommission(ccops, tmp_path, path):
    """POSIX keeps a leading '//' through normpath: the text is refused before the plan shows it."""
    folder = tmp_path / "bad"
    (folder / "sites").mkdir(parents=True)
    (folder / "ccops.yml").write_text("plugin: ccops\nsites: sites\n")
    (folder / "sites" / "tst.yml").write_text(
        SITE.replace("decommission_data_paths: [/srv/recordings]", f'decommission_data_paths: ["{path}"]')
    )
    line = SITE.splitlines().index(
        "    vars: {decommission_accounts: [agent1], decommission_data_paths: [/srv/recordings]}"
    )
    for argv in (
        ["plan", "decommission", "-i", str(folder), "--limit", "tst-r01"],
        ["decommission", "-i", str(folder), "--change-id", "CHG-D1", "--limit", "tst-r01", "--confirm", "tst-r01"],
    ):
        result = ccops(*argv, timeout=300)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert f"sites/tst.yml:{line + 1}: groups[2].vars.decommission_data_paths[0]: '{path}'" in result.stderr
    assert payload(ccops("runs", "list", "--output", "json", check=True).stdout) == []
