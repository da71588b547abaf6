"""What a batch's Ansible sees: only that batch's hosts, read by stock ansible-inventory through the ccops plugin."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import BIN, ROOT, ccops_env, run_scripted, site_text, write_inventory


def test_each_batch_s_inventory_lists_only_its_own_hosts(tmp_path):
    inventory = write_inventory(
        tmp_path / "inv",
        {
            "one.yml": site_text(code="one", count=9, address="127.0.0.10"),
            "two.yml": site_text(code="two", count=7, address="127.0.0.30"),
        },
    )
    home = tmp_path / "home"
    proc = run_scripted("tests.cli.scripted_cli", home, tmp_path / "hosts.json", {}, "inspect", "-i", str(inventory))
    assert proc.returncode == 0, proc.stderr
    batches = sorted(home.glob("runs/*/batch-*.ccops-snapshot.json"))
    [approved] = home.glob("runs/*/inventory.ccops-snapshot.json")
    everyone = set(json.loads(approved.read_text())["hosts"])
    assert len(everyone) == 16 and len(batches) >= 2
    seen: list[str] = []
    for batch in batches:
        stock = subprocess.run(
            [str(BIN / "ansible-inventory"), "-i", str(batch), "--list"],
            cwd=ROOT, capture_output=True, text=True, check=True, env=ccops_env(tmp_path), timeout=300,
        )  # fmt: skip
        hosts = set(json.loads(stock.stdout)["_meta"]["hostvars"])
        assert hosts == set(json.loads(batch.read_text())["hosts"]) and hosts < everyone
        seen += hosts
    assert sorted(seen) == sorted(everyone)  # every host in exactly one batch
