"""Each host document's schema: the real roles' shapes pass untouched, every wrong type and size is
named (host document and field), and stored records of older shapes read in the declared one."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from ccops.hostdata import parse_report, read_asset, read_certificate, read_report, read_summary
from ccops.runner.events import EventCollector

DEBIAN_ASSET = {
    "outcome": "inspected",
    "reason": "",
    "os": {
        "variant": "debian12",
        "family": "debian",
        "distribution": "Debian",
        "version": "12.8",
        "codename": "bookworm",
        "kernel": "6.1.0-28-amd64",
    },
    "hardware": {"vendor": "QEMU", "product": "Standard PC", "cpus": 2, "memory_mb": 1987, "virtualization": "kvm"},
    "uptime_seconds": 3600,
    "packages": {"count": 2, "items": {"bash": "5.2.15-2+b7", "openssh-server": "1:9.2p1-2+deb12u3"}},
    "updates": {
        "pending": 1,
        "security": 1,
        "items": [
            {
                "name": "openssl",
                "from": "3.0.14-1",
                "to": "3.0.15-1",
                "origin": "Debian-Security:12/stable-security",
                "security": True,
            }
        ],
        "lists_refreshed": True,
    },
    "disks": [{"mount": "/", "size_mb": 20000, "free_mb": 12000, "used_pct": 40}],
    "services": [{"name": "ssh.service", "state": "running", "status": "enabled", "source": "systemd"}],
    "logs": ["2026-12-01T00:00:00+0000 host kernel: warning"],
    "image": {},
    "collected_at": "2026-12-01T00:00:00+00:00",
}
WINDOWS_ASSET = {
    **DEBIAN_ASSET,
    "os": {
        "variant": "win11",
        "family": "windows",
        "distribution": "Microsoft Windows 11 Pro",
        "version": "10.0.22631.0",
        "codename": "Client",
        "kernel": "10.0.22631.0",
    },
    "packages": {"count": 1, "items": {"Softphone 2.0": "2.0.1"}},
    "updates": {"pending": 1, "security": 0, "items": [{"name": "2026-11 Cumulative Update"}], "lists_refreshed": True},
    "disks": [{"mount": "C:", "size_mb": 100000, "free_mb": 50000, "used_pct": 50}],
    "services": [{"name": "Spooler", "state": "started", "start_mode": "auto"}],
}
BACKUP = {
    "id": "tst-a01-20261201T000000Z",
    "host": "tst-a01",
    "phase": "before",
    "run_id": "r",
    "change_id": "CHG-1",
    "created": "2026-12-01T00:00:00Z",
    "sha256": "a" * 64,
    "size": "20480",  # templated: Ansible can hand a number back as its text
    "machine_id": "0123abcd",
    "paths": ["/etc"],
    "verified": True,
}
PATCH = {
    "outcome": "patched",
    "reason": "",
    "pending": ["openssl"],
    "versions_before": {"openssl": "3.0.14-1"},
    "versions_after": {"openssl": "3.0.15-1"},
    "backup_before": BACKUP,
    "backup_after": BACKUP,
    "rebooted": False,
    "health": {"ok": True, "problems": []},
    "rebaseline": "none",
    "packages_changed": {"changed": {"openssl": "3.0.14-1 -> 3.0.15-1"}, "added": {"libnew": "1"}, "removed": {}},
}
ROLLED_BACK = {
    "outcome": "rolled_back",
    "reason": "",
    "rollback": {
        "id": "b",
        "packages_returned": ["openssl=3.0.14-1"],
        "packages_removed": [],
        "paths": [f"etc/file{i}" for i in range(5000)],  # an archive's member list is long
    },
    "health": {"ok": True, "problems": []},
    "rebaseline": "none",
}
COMPLY = {
    "outcome": "noncompliant",
    "reason": "1 deviation(s)",
    "deviations": [{"policy": "usb_storage", "detail": "usb-storage may load"}],
    "fixed": [],
    "policies": ["usb_storage", "ssh"],
}
SOFTWARE = {
    "outcome": "applied",
    "reason": "",
    "changes": [{"app": "softphone", "action": "upgrade", "from": "1.0", "to": "2.0"}],
    "backup_before": BACKUP,
    "health": {"ok": True, "problems": []},
    "rebaseline": "none",
}
DECOMMISSION = {
    "outcome": "decommissioned",
    "reason": "",
    "machine_id": "0123abcd",
    "final_backup": BACKUP,
    "final_backup_reused": False,
    "revoked": {"hooks": [], "accounts": ["agent1"], "certificates": [], "ssh_keys": ["ccops"], "login_locked": True},
    "sanitised": [
        {
            "path": "/srv/recordings",
            "method": "clear",
            "files": 3,
            "bytes": 4096,
            "verification": "read back as zeros before removal; now empty",
            "result": "passed",
        },
    ],
    "restore_card": {"type": "none", "action": "disable"},
    "end_state": "hand_back",
}
LISTED = {
    "outcome": "listed",
    "reason": "",
    "release": "debian12",
    "arch": "amd64",
    "inst": ["Inst a (1 x)"] * 3,
    "prerequisite": [],
}
STAGED = {"outcome": "staged", "reason": "", "sent": ["a.deb"], "kept": [], "refused": []}
DEPLOY_BACKUP = {"outcome": "backed_up", "reason": "", "phase": "backup", "backup": BACKUP}


@pytest.mark.parametrize(
    ("report", "verb"),
    [
        (DEBIAN_ASSET, "inspect"),
        (WINDOWS_ASSET, "inspect"),
        (
            {**DEBIAN_ASSET, "outcome": "deployed", "phase": "converge", "image": {"name": "agent", "version": "3"}},
            "deploy",
        ),
        (  # a rebuild's converge also names what its verified backup put back
            {
                **DEBIAN_ASSET,
                "outcome": "deployed",
                "phase": "converge",
                "image": {"name": "agent", "version": "3"},
                "restored": {"backup": "20261207T1", "sha256": "ab" * 32, "paths": ["/etc/ccops-seat"]},
            },
            "deploy",
        ),
        (PATCH, "patch"),
        (
            {**PATCH, "packages_changed": {"error": "a backup archive no longer matches its sha256; changes unknown"}},
            "patch",
        ),
        ({"outcome": "up_to_date", "reason": "no pending update selected"}, "patch"),
        (ROLLED_BACK, "rollback"),
        (COMPLY, "comply-check"),
        (SOFTWARE, "software-apply"),
        (DECOMMISSION, "decommission"),
        (LISTED, "content-updates"),
        (STAGED, "software-stage"),
        (DEPLOY_BACKUP, "deploy"),
        ({"outcome": "refused", "reason": "seat busy: agent on a call"}, None),
    ],
)
def test_what_the_real_roles_hand_back_passes_untouched(report, verb):
    clean, damaged = parse_report(copy.deepcopy(report), verb)
    assert damaged == []
    expected = {**report, **({"backup_before": {**BACKUP, "size": 20480}} if "backup_before" in report else {})}
    for key in ("backup_after", "final_backup"):
        if key in report:
            expected[key] = {**BACKUP, "size": 20480}
    if "backup" in report:
        expected["backup"] = {**BACKUP, "size": 20480}
    assert clean == expected


def _damaged(report: dict[str, Any], verb: str | None = None) -> tuple[dict[str, Any], list[str]]:
    clean, damaged = parse_report(report, verb)
    assert damaged and clean["damaged"] == damaged
    return clean, damaged


@pytest.mark.parametrize(
    ("field", "value", "note"),
    [
        ("updates", {"pending": 1e999}, "updates.pending: expected a whole number, got non-finite number inf"),
        ("updates", {"items": 7}, "updates.items: expected a list, got integer"),
        ("updates", {"pending": math.nan}, "updates.pending: expected a whole number, got non-finite number nan"),
        ("updates", {"security": -3}, "updates.security: -3 is outside 0..1000000"),
        ("disks", [{"mount": ["/"]}], "disks[0].mount: expected text, got list"),
        ("disks", [{"used_pct": 250}], "disks[0].used_pct: 250 is outside 0..100"),
        ("disks", {"mount": "/"}, "disks: expected a list, got mapping"),
        ("os", "Debian", "os: expected a mapping, got text"),
        ("hardware", {"memory_mb": True}, "hardware.memory_mb: expected a whole number, got boolean"),
        ("packages", {"items": ["bash"]}, "packages.items: expected a mapping, got list"),
        ("packages", {"items": {"bash": {"v": 1}}}, "packages.items['bash']: expected text, got mapping"),
        ("services", [{"name": None}], "services[0].name: expected text, got null"),
        ("logs", "one line", "logs: expected a list, got text"),
        ("uptime_seconds", "long", "uptime_seconds: expected a whole number, got text"),
        ("collected_at", ["now"], "collected_at: expected text, got list"),
    ],
)
def test_every_wrong_type_in_an_asset_report_is_named(field, value, note):
    report = copy.deepcopy(DEBIAN_ASSET)
    report[field] = {**report[field], **value} if isinstance(report[field], dict) and isinstance(value, dict) else value
    clean, damaged = _damaged(report, "inspect")
    assert note in damaged
    assert clean["os"] if field != "os" else clean["os"] == {}  # the rest of the report is kept


def test_huge_answers_are_cut_to_their_limits():
    report = {
        **DEBIAN_ASSET,
        "logs": ["x" * 10_000_000] * 2000,
        "packages": {"count": 1, "items": {f"p{i}": "1" for i in range(60_000)}},
    }
    clean, damaged = _damaged(report, "inspect")
    assert len(clean["logs"]) == 1000 and all(len(line) == 2048 for line in clean["logs"])
    assert len(clean["packages"]["items"]) == 50_000
    assert "logs: 2000 entries, kept the first 1000" in damaged


def test_a_report_that_is_not_a_mapping_is_damaged_as_a_whole():
    for report in (7, ["inspected"], "inspected", None):
        clean, damaged = parse_report(report, "inspect")
        assert clean["outcome"] == "damaged" and damaged


def test_a_host_does_not_say_itself_what_was_damaged():
    clean, damaged = parse_report({**DEBIAN_ASSET, "damaged": ["nothing to see"]}, "inspect")
    assert damaged == [] and "damaged" not in clean


def test_non_text_comply_fields_are_dropped_and_named():
    report = {**COMPLY, "deviations": [{"policy": ["ssh"], "detail": {"x": 1}}, 7], "policies": 5, "reason": [1]}
    clean, damaged = _damaged(report, "comply-check")
    assert clean["deviations"] == [] and clean["policies"] == [] and "reason" not in clean  # no policy: left out
    assert "deviations[0].policy: expected text, got list" in damaged


def test_decommission_results_of_the_wrong_shape_are_named():
    report = {**DECOMMISSION, "sanitised": "all", "final_backup": "backup-1", "revoked": ["ssh"], "machine_id": {}}
    clean, damaged = _damaged(report, "decommission")
    assert clean["sanitised"] == [] and clean["final_backup"] == {} and clean["revoked"] == {}
    assert len(damaged) == 4


def test_unknown_outcomes_keep_their_fields_bounded():
    deep: Any = 1
    for _ in range(50):
        deep = {"d": deep}
    clean, damaged = _damaged({"outcome": "seeded", "reason": "", "evidence": deep, "n": math.inf})
    assert "n" not in clean and "evidence" in clean
    assert any("nested deeper" in d for d in damaged)


def test_stored_records_of_an_older_shape_read_in_the_declared_one():
    record = read_asset({"disks": [{"mount": ["/"]}], "updates": {"pending": "Infinity"}, "damaged": ["kept note"]})
    assert record["disks"] == [{}] and "pending" not in record["updates"]
    assert record["damaged"][0] == "kept note" and "disks[0].mount: expected text, got list" in record["damaged"]
    assert read_asset(DEBIAN_ASSET) == DEBIAN_ASSET
    summary = read_summary({"disks": 5, "services": [{"name": 1}], "security": math.inf, "collected": "t"})
    assert summary["disks"] == [] and summary["services"] == [{"name": "1"}] and "security" not in summary
    assert read_report({"outcome": "noncompliant", "deviations": "x"}, "comply-check")["deviations"] == []
    assert read_report(None) == {}


def test_a_certificate_document_reads_in_its_declared_shape():
    from ccops.decommission.certificate import build_certificate, render_text
    from ccops.inventory.model import Host

    host = Host.__new__(Host)
    for key, value in {"name": "tst-r01", "site": "tst", "role": "agent", "os": "debian12", "asset_tag": None}.items():
        object.__setattr__(host, key, value)
    document = build_certificate(host, DECOMMISSION, "run", "op", None, "2026-12-01")
    assert (
        "damaged" not in read_certificate(document)
        and read_certificate(document)["sanitised"] == DECOMMISSION["sanitised"]
    )
    text = render_text(
        {"document": {**document, "sanitised": 7, "revoked": ["x"]}, "sha256": "a", "document_sha256": "a"}
    )
    assert "damaged:" in text and "sanitised: expected a list" in text


def test_the_collector_names_the_damaged_host_and_keeps_the_others():
    collector = EventCollector(verb="inspect")
    play = {"uuid": "p"}
    collector({"event": "playbook_on_play_start", "event_data": play})
    for host, report in (("good", DEBIAN_ASSET), ("bad", {**DEBIAN_ASSET, "disks": [{"mount": ["/"]}]})):
        facts = {"ansible_facts": {"ccops_report": report}}
        collector({"event": "runner_on_ok", "event_data": {"host": host, "play_uuid": "p", "res": facts}})
    collector({"event": "playbook_on_stats", "event_data": {"ok": {"good": 1, "bad": 1}}})
    outcomes = {o.host: o for o in collector.outcomes(["good", "bad"])}
    assert outcomes["good"].outcome == "ok" and outcomes["good"].message is None
    assert outcomes["bad"].outcome == "damaged"
    assert outcomes["bad"].message == "host data damaged: disks[0].mount: expected text, got list"
    assert collector.reports["good"] == DEBIAN_ASSET and collector.reports["bad"]["disks"] == [{}]


def test_a_later_report_that_fits_clears_the_damage():
    collector = EventCollector(verb="patch")
    for report in ({"outcome": "patching", "pending": 7}, PATCH):
        facts = {"ansible_facts": {"ccops_report": report}}
        collector({"event": "runner_on_ok", "event_data": {"host": "h", "res": facts}})
    assert collector.damaged == {}


def test_a_spooled_record_of_an_older_ccops_is_parsed_before_it_is_enriched(tmp_path):
    from ccops.store.records import Store

    store = Store(tmp_path / "ccops.db")
    store.start_run(
        "20990101T000000Z-aaaaaa", "inspect", operator="t", change_id=None, git_commit=None, inventory="i",
        inventory_sha256="0" * 64, selectors={}, request={}, plan=[],
    )  # fmt: skip
    # save_assets stores what it is given: the collector parsed it, a spool from an older ccops did not
    store.save_assets("20990101T000000Z-aaaaaa", {"h": {"updates": {"pending": math.inf, "items": 7}}})
    record = store.asset("h")["record"]
    assert record["patch_level"]["pending"] == 0 and record["updates"] == {"items": []}
