"""One host answering garbage among healthy ones, through the real CLI (hosts simulated at the
runner's event seam, tests/cli/scripted_cli.py): every command that reads host data still works.

The garbage host's report is kept as far as it fits its declared shape; what does not fit is
named (host and field) in the run's host result and in ``host show``; the run ends ``failed``
(a host's data was damaged), never ``error``, and the healthy hosts' records are all there.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ccops.store.records import Store
from tests.conftest import run_scripted, write_inventory
from tests.json_output import data_of, payload
from tests.unit.test_catalogue import GOOD

SITE = """\
site:
  code: tst
  city: testcity
  timezone: UTC
  maintenance_windows: [{start: "00:00", end: "00:00"}]
  rollout: {canary: 1, waves: ["100%"], batch_size: 4, max_fail_percentage: 100}
  decommission: {max_hosts: 3, end_state: hand_back}
  backup_target: {host: localhost, path: /var/tmp/ccops-hostile-hosts}
connections:
  linux: {type: ssh, user: ccops, become: true}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: tst-a0[1:3]
    addresses: 127.0.0.9
  - name: old-agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: tst-r0[1:2]
    addresses: 127.0.0.20
    lifecycle: retiring
    vars: {decommission_data_paths: [/srv/recordings]}
"""
HEALTHY = {
    "outcome": "inspected",
    "reason": "",
    "os": {"variant": "debian12", "family": "debian", "distribution": "Debian", "version": "12", "kernel": "6.1"},
    "hardware": {"vendor": "QEMU", "product": "pc", "cpus": 2, "memory_mb": 2048, "virtualization": "kvm"},
    "uptime_seconds": 3600,
    "packages": {"count": 2, "items": {"bash": "5.2", "softphone": "1.0"}},
    "updates": {
        "pending": 1,
        "security": 1,
        "lists_refreshed": True,
        "items": [{"name": "openssl", "from": "3.0.1", "to": "3.0.2", "origin": "Debian-Security", "security": True}],
    },
    "disks": [{"mount": "/", "size_mb": 1000, "free_mb": 50, "used_pct": 95}],
    "services": [{"name": "ssh.service", "state": "running", "status": "enabled", "source": "systemd"}],
    "logs": ["2026-12-01T00:00:00 kernel: warning"],
    "collected_at": "2026-12-01T00:00:00+00:00",
}
GARBAGE = {
    "outcome": "inspected",
    "reason": "",
    "os": ["debian"],
    "hardware": {"vendor": {"x": 1}, "cpus": "many", "memory_mb": math.inf},
    "uptime_seconds": math.nan,
    "packages": {"count": 7, "items": 7},
    "updates": {"pending": math.inf, "security": "x", "items": 7, "lists_refreshed": "sometimes"},
    "disks": [{"mount": ["/", "/x"], "size_mb": 100, "free_mb": 1}, {"mount": "/data", "size_mb": 1e308 * 10}, "c:"],
    "services": {"name": "ssh"},
    "logs": ["x" * 100_000, None, ["nested"]],
    "damaged": [],  # a host does not get to say what was damaged
}
GARBAGE_COMPLY = {
    "outcome": "noncompliant",
    "reason": ["1 deviation(s)"],
    "deviations": [{"policy": ["ssh"], "detail": {"a": 1}}, 7, {"policy": "usb", "detail": "loaded \x00 x"}],
    "fixed": "none",
    "policies": 5,
}
HEALTHY_COMPLY = {
    "outcome": "compliant",
    "reason": "0 deviation(s)",
    "deviations": [],
    "fixed": [],
    "policies": ["ssh"],
}


def _no_nan(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    return data_of(json.loads(text, parse_constant=refuse))


@pytest.fixture
def fleet(tmp_path: Path):
    inv = write_inventory(tmp_path / "inv", {"tst.yml": SITE})
    (inv / "catalogue").mkdir()
    (inv / "catalogue" / "apps.yml").write_text(GOOD)
    home = tmp_path / "home"
    hosts_file = tmp_path / "hosts.json"

    def run(*args: str, reports: dict[str, Any] | None = None) -> subprocess.CompletedProcess:
        return run_scripted("tests.cli.scripted_cli", home, hosts_file, {"reports": reports or {}}, *args)

    run.inv, run.home = inv, home  # type: ignore[attr-defined]
    return run


def _inspect(fleet, garbage: dict[str, Any]) -> dict[str, Any]:
    reports = {"tst-a01": HEALTHY, "tst-a02": HEALTHY, "tst-a03": garbage, "tst-r01": HEALTHY, "tst-r02": HEALTHY}
    result = fleet("inspect", "-i", str(fleet.inv), "-o", "json", reports=reports)
    assert result.returncode == 2, result.stdout + result.stderr  # hosts failed: not 1 (an error)
    return _no_nan(result.stdout)


def test_one_garbage_host_never_breaks_the_fleet(fleet):
    data = _inspect(fleet, GARBAGE)
    assert data["status"] == "failed"
    outcomes = {h["host"]: h for h in data["hosts"]}
    assert {h: o["outcome"] for h, o in outcomes.items()} == {
        "tst-a01": "ok",
        "tst-a02": "ok",
        "tst-a03": "damaged",
        "tst-r01": "ok",
        "tst-r02": "ok",
    }
    message = outcomes["tst-a03"]["message"]
    assert message.startswith("host data damaged: ") and "os: expected a mapping, got list" in message

    store = Store(fleet.home / "ccops.db")
    assert store.asset("tst-a01")["record"]["disks"] == HEALTHY["disks"]
    record = store.asset("tst-a03")["record"]
    assert record["disks"] == [{"size_mb": 100, "free_mb": 1}, {"mount": "/data"}]
    assert record["packages"] == {"count": 7, "items": {}} and record["services"] == []
    assert "disks[0].mount: expected text, got list" in record["damaged"]
    assert "updates.pending: expected a finite number, got inf" not in record["damaged"]  # a whole number
    assert any(d.startswith("updates.pending: expected a whole number, got non-finite") for d in record["damaged"])
    assert len(record["logs"][0]) == 2048
    runs = payload(fleet("runs", "list", "-o", "json").stdout)
    assert runs[0]["status"] == "failed"

    # every reader of host data: no traceback, and what it writes parses strictly
    assert fleet("risks", "-i", str(fleet.inv)).returncode == 0
    assert "tst-a01" in fleet("risks", "-i", str(fleet.inv)).stdout  # the healthy host's full disk
    for fmt in ("html", "json", "csv"):
        out = fleet("report", "-i", str(fleet.inv), "--format", fmt)
        assert out.returncode == 0, out.stderr
        assert "tst-a01" in out.stdout
    _no_nan(fleet("report", "-i", str(fleet.inv), "--format", "json").stdout)

    shown = fleet("host", "show", "tst-a03", "-i", str(fleet.inv))
    assert shown.returncode == 0, shown.stderr
    assert "damaged" in shown.stdout and "disks[0].mount: expected text, got list" in shown.stdout
    as_json = _no_nan(fleet("host", "show", "tst-a03", "-i", str(fleet.inv), "-o", "json").stdout)
    assert "disks[0].mount: expected text, got list" in json.dumps(as_json)
    healthy = fleet("host", "show", "tst-a01", "-i", str(fleet.inv))
    assert healthy.returncode == 0 and "damaged" not in healthy.stdout

    _inspect(fleet, {**GARBAGE, "disks": {"mount": "/"}, "packages": {"items": {"bash": ["5"]}}})
    for host in ("tst-a03", "tst-a01"):
        diff = fleet("host", "diff", host)
        assert diff.returncode == 0, diff.stderr
        _no_nan(fleet("host", "diff", host, "-o", "json").stdout)

    plan = fleet("plan", "software", "apply", "-i", str(fleet.inv), "-o", "json")
    assert plan.returncode == 0, plan.stderr
    assert fleet("plan", "decommission", "-i", str(fleet.inv)).returncode == 0


def test_comply_check_writes_its_files_whatever_a_host_reports(fleet, tmp_path):
    reports = {"tst-a01": HEALTHY_COMPLY, "tst-a02": HEALTHY_COMPLY, "tst-a03": GARBAGE_COMPLY}
    junit, out = tmp_path / "junit.xml", tmp_path / "comply.json"
    args = ("comply", "--check", "-i", str(fleet.inv), "--junit", str(junit), "--json", str(out))
    result = fleet(*args, reports=reports)
    assert result.returncode == 2, result.stderr
    assert junit.is_file() and "tst-a03" in junit.read_text()
    data = _no_nan(out.read_text())
    assert data["reports"]["tst-a03"]["deviations"] == [{"policy": "usb", "detail": "loaded  x"}]
    assert any("deviations[0].policy: expected text, got list" in d for d in data["reports"]["tst-a03"]["damaged"])
    assert fleet("risks", "-i", str(fleet.inv)).returncode == 0
    for fmt in ("html", "json", "csv"):
        assert fleet("report", "-i", str(fleet.inv), "--format", fmt).returncode == 0
    assert fleet("host", "show", "tst-a03", "-i", str(fleet.inv)).returncode == 0


BAD_RECORD = {
    "os": "debian",
    "hardware": [2],
    "uptime_seconds": "long",
    "packages": {"count": "x", "items": ["bash"]},
    "updates": {"pending": math.inf, "items": {"a": 1}},
    "disks": [{"mount": ["/"], "size_mb": "big", "free_mb": None, "used_pct": math.nan}, 5],
    "services": "ssh",
    "logs": {"x": 1},
    "image": [1, 2],
    "patch_level": {"security_items": "none", "security_since": 7},
    "compliance": ["x"],
}
BAD_SUMMARY = {"disks": {"mount": "/"}, "services": 3, "security_names": "x", "security": "many", "collected": 5}
BAD_CERTIFICATE = {
    "host": "tst-r01",
    "site": "tst",
    "role": ["x"],
    "os": None,
    "run_id": "20990101T000000Z-bbbbbb",
    "operator": {"me": 1},
    "issued": 5,
    "final_backup": "backup-1",
    "revoked": ["ssh"],
    "sanitised": "everything",
    "restore_card": 7,
    "end_state": ["off"],
}


def _seed_older_shapes(home: Path, inv: Path) -> None:
    """Records as an older ccops (or a hand edit) left them: written around the parser, straight into the store."""
    from ccops.store.asset_history import pack

    store = Store(home / "ccops.db")
    for run_id, verb in (("20990101T000000Z-aaaaaa", "inspect"), ("20990101T000000Z-bbbbbb", "decommission")):
        store.start_run(
            run_id,
            verb,
            operator="test",
            change_id=None,
            git_commit=None,
            inventory=str(inv),
            inventory_sha256="0" * 64,
            selectors={},
            request={},
            plan=[],
        )
    for run_id, verb in (("20990102T000000Z-cccccc", "comply-check"), ("20990103T000000Z-dddddd", "inspect")):
        store.start_run(
            run_id, verb, operator="t", change_id=None, git_commit=None, inventory=str(inv),
            inventory_sha256="0" * 64, selectors={}, request={}, plan=[],
        )  # fmt: skip
    report = {"outcome": "noncompliant", "deviations": [{"policy": {"a": 1}, "detail": ["x"]}, "usb"]}
    store.record_hosts("20990102T000000Z-cccccc", [{"host": "tst-r01", "outcome": "failed", "report": report}])
    store.add_certificate("20990101T000000Z-bbbbbb", "tst-r01", BAD_CERTIFICATE)

    def write(db: Any) -> None:
        for run_id, collected in (("20990101T000000Z-aaaaaa", "2099-01-01T00:00:00+00:00"),
                                  ("20990103T000000Z-dddddd", "2099-01-03T00:00:00+00:00")):  # fmt: skip
            for host in ("tst-r01", "tst-a01"):
                db.execute(
                    "INSERT INTO asset_versions (host, run_id, collected, summary, record) VALUES (?,?,?,?,?)",
                    (host, run_id, collected, json.dumps(BAD_SUMMARY), pack(BAD_RECORD)),
                )
                db.execute(
                    "INSERT OR REPLACE INTO assets (host, run_id, collected, record) VALUES (?,?,?,?)",
                    (host, run_id, collected, json.dumps(BAD_RECORD)),
                )

    store.db.write(write)


def test_records_stored_in_an_older_shape_are_read_through_the_same_schemas(fleet):
    _seed_older_shapes(fleet.home, fleet.inv)
    inv = str(fleet.inv)
    for args in (
        ("host", "show", "tst-r01", "-i", inv),
        ("host", "show", "tst-r01", "-i", inv, "--packages", "-o", "json"),
        ("host", "diff", "tst-r01"),
        ("host", "diff", "tst-r01", "-o", "json"),
        ("risks", "-i", inv),
        ("risks", "-i", inv, "-o", "json"),
        ("report", "-i", inv, "--format", "html"),
        ("report", "-i", inv, "--format", "json"),
        ("report", "-i", inv, "--format", "csv"),
        ("runs", "certificate", "20990101T000000Z-bbbbbb", "tst-r01"),
        ("runs", "show", "20990102T000000Z-cccccc"),
        ("runs", "show", "20990102T000000Z-cccccc", "-o", "json"),
        ("plan", "software", "apply", "-i", inv),
        ("plan", "software", "apply", "-i", inv, "-o", "json"),
        ("software", "status", "-i", inv),
        ("software", "status", "-i", inv, "-o", "json"),
        ("plan", "decommission", "-i", inv),
        ("plan", "decommission", "-i", inv, "-o", "json"),
    ):
        result = fleet(*args)
        assert result.returncode == 0, (args, result.stderr)
        if "json" in args:
            _no_nan(result.stdout)
    shown = Store(fleet.home / "ccops.db").asset("tst-r01")["record"]
    assert shown["disks"] == [{}] and shown["os"] == {} and shown["packages"] == {"items": {}}
    assert "disks[0].mount: expected text, got list" in shown["damaged"]
    certificate = fleet("runs", "certificate", "20990101T000000Z-bbbbbb", "tst-r01").stdout
    assert "Sanitised" in certificate and "damaged" in certificate


def test_a_garbage_sanitiser_result_gets_no_certificate_and_the_host_stays_retiring(fleet):
    from tests.unit.test_hostdata_reports import DECOMMISSION

    garbage = {**DECOMMISSION, "sanitised": "all of it", "final_backup": ["b"], "machine_id": {"id": 1}}
    args = ("decommission", "-i", str(fleet.inv), "--limit", "tst-r0*", "--confirm", "tst-r01,tst-r02")
    result = fleet(*args, "--change-id", "CHG-9", "-o", "json", reports={"tst-r01": DECOMMISSION, "tst-r02": garbage})
    assert result.returncode == 2, result.stdout + result.stderr
    data = _no_nan(result.stdout)
    outcomes = {h["host"]: h for h in data["hosts"]}
    assert outcomes["tst-r01"]["outcome"] == "ok" and outcomes["tst-r02"]["outcome"] == "damaged"
    assert "sanitised: expected a list, got text" in outcomes["tst-r02"]["message"]
    certificate = fleet("runs", "certificate", data["run_id"], "tst-r01")
    assert certificate.returncode == 0 and "/srv/recordings" in certificate.stdout
    refused = fleet("runs", "certificate", data["run_id"], "tst-r02")
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    from ccops.inventory.load import load_inventory

    hosts = load_inventory(fleet.inv).hosts
    assert hosts["tst-r01"].lifecycle == "retired"
    assert hosts["tst-r02"].lifecycle == "retiring"  # not retired on a result nobody can read
