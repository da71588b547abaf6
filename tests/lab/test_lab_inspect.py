"""End to end on real hosts: bring up the lab, inspect it, read the records."""

import json
import subprocess
import time

import pytest

from ccops.store.records import Store
from tests.conftest import BIN, ROOT, ccops_env, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec

pytestmark = pytest.mark.lab
LAB = ("lab-deb11-01", "lab-deb12-01", "lab-deb13-01")
WINRM_SECRET = "winrm-Secret-never-in-records-4711"


def _container_ids() -> list[str]:
    out = subprocess.run(
        ["podman", "ps", "-q", "--no-trunc", "--filter", "label=ccops.lab=1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(out.split())


def test_lab_up_twice_leaves_one_fleet(lab_home):
    before = _container_ids()
    run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True)
    assert _container_ids() == before and len(before) == 3
    status = payload(run_ccops(lab_home, "lab", "status", "--output", "json", check=True).stdout)
    assert sorted(h["host"] for h in status) == sorted(LAB)
    assert all(h["ssh"] == "ok" and h["container"] == "running" for h in status)


def test_stock_ansible_reads_the_lab_inventory(lab_home):
    result = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", "inventory/lab", "--list"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=ccops_env(lab_home),
    )
    doc = json.loads(result.stdout)  # stock Ansible's document, not one of ccops's
    assert set(LAB) <= set(doc["_meta"]["hostvars"])
    assert sorted(doc["state_planned"]["hosts"]) == ["lab-w22-01", "lab-win11-01", "lab-win11-02"]


@pytest.fixture(scope="module")
def inspected(lab_home):
    env = {**ccops_env(lab_home), "CCOPS_LAB_WINRM_PASSWORD": WINRM_SECRET}
    result = run_ccops(lab_home, "inspect", "--change-id", "CHG-1001", "--output", "json", env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return payload(result.stdout)


def test_inspect_collects_a_real_asset_record_per_variant(inspected):
    outcomes = {h["host"]: h["outcome"] for h in inspected["hosts"]}
    # planned Windows seats are in the inventory but never contacted
    assert outcomes == dict.fromkeys(LAB, "ok")
    for host, major in zip(LAB, ("11", "12", "13"), strict=True):
        report = inspected["reports"][host]
        assert report["os"]["distribution"] == "Debian"
        assert report["os"]["version"].split(".")[0] == major
        assert report["packages"]["count"] > 100 and "openssh-server" in report["packages"]["items"]
        # lab images are installed from the release alone: its security updates are pending
        assert report["updates"]["pending"] > 0 and report["updates"]["security"] > 0
        assert any(d["mount"] == "/" and d["size_mb"] > 0 for d in report["disks"])
        assert {"name": "ssh.service", "state": "running"}.items() <= next(
            s for s in report["services"] if s["name"] == "ssh.service"
        ).items()
        assert report["uptime_seconds"] >= 0 and report["hardware"]["memory_mb"] > 0


def test_host_show_tells_an_operator_about_a_seat(inspected, lab_home):
    result = run_ccops(lab_home, "host", "show", "lab-deb13-01", check=True)
    text = result.stdout
    assert "== lab-deb13-01" in text and "Debian 13" in text and "(debian13)" in text
    assert "pending" in text and "ssh.service" in text and "running" in text
    assert f"run {inspected['run_id']}" in text


def test_every_run_leaves_a_record(inspected, lab_home):
    record = payload(run_ccops(lab_home, "runs", "show", inspected["run_id"], "--output", "json", check=True).stdout)
    assert record["verb"] == "inspect" and record["status"] == "succeeded" and record["exit_code"] == 0
    assert record["change_id"] == "CHG-1001" and record["operator"]
    assert len(record["inventory_sha256"]) == 64 and record["git_commit"]
    assert sorted(h["host"] for h in record["hosts"]) == sorted(LAB)
    listed = payload(run_ccops(lab_home, "runs", "list", "--output", "json", check=True).stdout)
    assert inspected["run_id"] in [r["run_id"] for r in listed]


def test_no_secret_lands_in_artifacts_or_records(inspected, lab_home):
    become_password = (lab_home / "lab" / "become_password").read_text().strip()
    assert len(become_password) > 10
    leaks = []
    for path in lab_home.rglob("*"):
        if path.is_file() and path.name != "become_password":
            data = path.read_bytes()
            leaks += [
                f"{path}: {name}"
                for name, secret in (("become", become_password), ("winrm", WINRM_SECRET))
                if secret.encode() in data
            ]
    assert leaks == []
    command = next((lab_home / "runs" / inspected["run_id"]).rglob("command"))
    env = json.loads(command.read_text())["env"]
    assert env["CCOPS_LAB_WINRM_PASSWORD"] == "<redacted by ccops>"


def test_an_unreachable_host_fails_the_run_and_is_named(inspected, lab_home):
    subprocess.run(["podman", "stop", "-t", "2", "ccops-lab-lab-deb11-01"], check=True, capture_output=True)
    try:
        result = run_ccops(lab_home, "inspect", "--output", "json")
        data = payload(result.stdout)
        outcomes = {h["host"]: h["outcome"] for h in data["hosts"]}
        assert result.returncode == 2 and data["status"] == "failed"
        assert outcomes == {"lab-deb11-01": "unreachable", "lab-deb12-01": "ok", "lab-deb13-01": "ok"}
    finally:
        run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True)


# A df earlier on the PATH (sudo's secure_path starts with /usr/local/bin) answers garbage: a disk
# larger than any record may hold; everything else the asset module reads is the real host's.
GARBAGE_DF = """#!/bin/sh
echo 'Filesystem 1024-blocks Used Available Capacity Mounted on'
echo 'overlay 99999999999999999999999 0 1 1% /'
"""
FAKE = "/usr/local/bin/df"


def test_a_host_whose_probe_answers_garbage_leaves_the_others_intact(lab_home):
    victim = "lab-deb12-01"
    pexec(victim, "sh", "-c", f"cat > {FAKE} && chmod 755 {FAKE}", stdin=GARBAGE_DF)
    try:
        result = run_ccops(lab_home, "inspect", "--output", "json")
    finally:
        pexec(victim, "rm", "-f", FAKE)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    data = payload(result.stdout)
    outcomes = {h["host"]: h for h in data["hosts"]}
    assert result.returncode == 2 and data["status"] == "failed"  # a host's data was damaged: not an error
    assert {h: o["outcome"] for h, o in outcomes.items()} == {**dict.fromkeys(LAB, "ok"), victim: "damaged"}
    assert "disks[0].size_mb: " in outcomes[victim]["message"]
    store = Store(lab_home / "ccops.db")
    for host in LAB:
        asset = store.asset(host)
        assert asset is not None and asset["run_id"] == data["run_id"]
        record = asset["record"]
        assert record["os"]["distribution"] == "Debian" and record["packages"]["count"] > 100
        if host == victim:
            assert record["disks"] == [{"mount": "/", "free_mb": 0, "used_pct": 100}]
            assert any(d.startswith("disks[0].size_mb: ") for d in record["damaged"])
        else:
            assert "damaged" not in record and any(d["mount"] == "/" for d in record["disks"])
    report = run_ccops(lab_home, "report", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert all(host in report.stdout for host in LAB)
    shown = run_ccops(lab_home, "host", "show", victim, check=True).stdout
    assert "damaged" in shown and "disks[0].size_mb: " in shown
    # the seat answers truthfully again: its next inspection is whole
    again = run_ccops(lab_home, "inspect", "--limit", victim, "--output", "json")
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]


STAMP = "/var/lib/ccops/apt-lists-refreshed"  # roles/asset/defaults asset_package_lists_stamp
LISTS = "/var/lib/apt/lists"


def _mtimes(host: str, *paths: str) -> str:
    return pexec(host, "sh", "-c", 'stat -c "%n %Y" "$@"', "sh", *paths)


def _sent_packages(lab_home, run_id: str) -> dict[str, object]:
    """What each host sent as its packages, from the run's Ansible events (before ccops filled anything in)."""
    sent: dict[str, object] = {}
    for path in (lab_home / "runs" / run_id).rglob("job_events/*.json"):
        event = json.loads(path.read_text())
        facts = (event.get("event_data", {}).get("res") or {}).get("ansible_facts") or {}
        if event.get("event") == "runner_on_ok" and "ccops_report" in facts:
            sent[event["event_data"]["host"]] = facts["ccops_report"].get("packages")
    return sent


def test_fresh_lists_are_not_refreshed_stale_ones_are_and_an_unchanged_set_is_not_sent(inspected, lab_home):
    fresh, stale = "lab-deb12-01", "lab-deb13-01"
    before = _mtimes(fresh, STAMP, LISTS, *pexec(fresh, "sh", "-c", f"ls -d {LISTS}/*Release").split())
    pexec(stale, "touch", "-d", "3 hours ago", STAMP)
    pexec(stale, "sh", "-c", f"rm -f {LISTS}/*Release")  # only a refresh brings them back
    result = run_ccops(lab_home, "inspect", "--output", "json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = payload(result.stdout)
    assert _mtimes(fresh, STAMP, LISTS, *pexec(fresh, "sh", "-c", f"ls -d {LISTS}/*Release").split()) == before
    assert pexec(stale, "sh", "-c", f"ls {LISTS}/*Release").strip()
    assert int(pexec(stale, "stat", "-c", "%Y", STAMP)) > time.time() - 600
    assert data["reports"][stale]["updates"]["lists_refreshed"] is True
    # every host's set was stored by the earlier inspection and has not changed: none is sent again
    sent = _sent_packages(lab_home, data["run_id"])
    assert sorted(sent) == sorted(LAB)
    assert all(isinstance(p, str) and p.startswith("unchanged: ") for p in sent.values()), sent
    store = Store(lab_home / "ccops.db")
    for host in LAB:
        asset = store.asset(host)
        assert asset["run_id"] == data["run_id"] and "damaged" not in asset["record"]
        assert "openssh-server" in asset["record"]["packages"]["items"]
        assert asset["record"]["packages"]["count"] == len(asset["record"]["packages"]["items"]) > 100
