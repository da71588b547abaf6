"""The plan a reviewer approves is the plan the run record keeps, and it names only files that exist."""

import pytest

from tests.cli.loopback import ClosedPort, loopback_inventory
from tests.conftest import ROOT, site_text, write_inventory
from tests.json_output import payload

RUN_ARGS = {"inspect": (), "patch": ("--change-id", "CHG-1", "--yes")}


@pytest.mark.parametrize("verb", list(RUN_ARGS))
def test_plan_json_is_what_the_run_record_stores(ccops, tmp_path, verb):
    ports = [ClosedPort() for _ in range(3)]
    try:
        inventory = loopback_inventory(tmp_path / "inv", [p.port for p in ports])
        planned = payload(
            ccops("plan", verb, "-i", str(inventory), "--limit", "lo-*", "--output", "json", check=True).stdout
        )
        ran = ccops(verb, "-i", str(inventory), "--limit", "lo-*", *RUN_ARGS[verb], "--output", "json")
    finally:
        for port in ports:
            port.close()
    assert ran.returncode in (2, 3), ran.stderr  # unreachable hosts: failed (inspect) or halted (patch)
    record = payload(ccops("runs", "show", payload(ran.stdout)["run_id"], "--output", "json", check=True).stdout)
    # the record keeps the approved plan document itself, plus the inventory files it was made from
    assert {key: record["plan"][key] for key in planned} == planned
    assert set(record["plan"]["inventory_files"]) == {"ccops.yml", "sites/lo.yml"}
    assert (record["verb"], record["inventory_sha256"], record["selectors"]) == (
        planned["verb"],
        planned["inventory_sha256"],
        planned["selectors"],
    )
    assert sum(len(b["hosts"]) for w in record["plan"]["waves"] for b in w["batches"]) == planned["hosts"] == 3


def test_plan_names_the_restore_card_files_each_host_runs(ccops, tmp_path):
    sites = {
        "deb.yml": site_text("deb", 2) + "vars: {patch_restore_card: lab}\n",
        "win.yml": site_text("win", 2, "10.9.1.1")
        .replace("os: debian12", "os: win11")
        .replace(
            "linux: {type: ssh, user: ccops, become: true}",
            "linux: {type: winrm, user: ccops, dns_domain: win.cc.example}",
        )
        + "vars: {patch_restore_card: uwf}\n",
    }
    inventory = write_inventory(tmp_path / "inv", sites)
    result = ccops("plan", "patch", "-i", str(inventory), "--output", "json")
    assert result.returncode == 0, result.stderr
    by_os = {a["os"]: a for a in payload(result.stdout)["actions"]}
    files = {os_name: [t["file"] for t in a["tasks"]] for os_name, a in by_os.items()}
    assert "roles/restore_card/tasks/lab.yml" in files["debian12"]
    assert "roles/restore_card/tasks/uwf.yml" in files["win11"]
    assert "roles/backup/tasks/backup_windows.yml" in files["win11"]
    named = [t["file"] for a in by_os.values() for t in (*a["tasks"], *a["on_failure"])]
    assert named and all((ROOT / f).is_file() for f in named)
    text = ccops("plan", "patch", "-i", str(inventory)).stdout
    assert "restore_card: lab.yml (rebaseline" in text and "patch: apply_windows.yml" in text
