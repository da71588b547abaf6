"""A patch taken back by a restore card put on the old baseline by hand, found and put back by schedules.

One lab host: patch it (the card is re-baselined), then do what an admin restoring the seat
does: put the card's pre-patch baseline back and reboot. The scheduled inspection finds the
host ``reverted`` (risks, and a signed webhook on loopback naming it), the ``reapply``
schedule's firing patches it again, and the versions stay after another reboot.
"""

import shutil
import socket
from pathlib import Path

import pytest

from tests.cli.notify_receiver import Receiver
from tests.conftest import ROOT, ccops_env, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec, reboot, versions
from tests.notify_fixtures import SECRET

pytestmark = pytest.mark.lab
HOST = "lab-deb12-01"
CARD = "/var/lib/ccops-restore-card"
OLD_BASELINE = "/var/lib/ccops-test-old-baseline"  # inside the host: the card's baseline before the patch


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _inventory(folder: Path, port: int) -> Path:
    """The lab inventory with an inspect and a reapply schedule for HOST, and a webhook for ``reverted``."""
    shutil.copytree(ROOT / "inventory" / "lab", folder)
    (folder / "schedules.yml").write_text(
        "schedules:\n"
        f'  - {{name: lab-inspect, site: lab, run: inspect, limit: [{HOST}], at: "06:30", change_id: STD-INSPECT}}\n'
        f"  - {{name: lab-reapply, site: lab, run: reapply, limit: [{HOST}], window: open, change_id: STD-PATCH}}\n"
    )
    (folder / "notify.yml").write_text(
        "channels:\n"
        f"  hook: {{kind: webhook, url: 'http://127.0.0.1:{port}/ccops/in', secret: {{env: CCOPS_TEST_HOOK_SECRET}}}}\n"
        "rules:\n"
        "  - {events: [reverted], channels: [hook]}\n"
    )
    return folder


def test_a_reverted_patch_is_found_pushed_and_put_back_by_the_schedules(lab_home, tmp_path):
    port = _free_port()
    inv = str(_inventory(tmp_path / "inv", port))
    env = {**ccops_env(lab_home), "CCOPS_TEST_HOOK_SECRET": SECRET}
    original = versions(HOST)
    pexec(HOST, "cp", "-a", f"{CARD}/baseline", OLD_BASELINE)

    patched = run_ccops(
        lab_home, "patch", "-i", inv, "--limit", HOST, "--change-id", "CHG-3001", "--yes", "-o", "json", env=env
    )
    assert patched.returncode == 0, patched.stderr[-3000:]
    after = versions(HOST)
    assert after != original

    # the admin's restore: the card's old baseline back in place, then the reboot reverts the seat to it
    pexec(HOST, "rsync", "-aHX", "--delete", f"{OLD_BASELINE}/", f"{CARD}/baseline/")
    reboot(HOST)
    assert versions(HOST) == original

    with Receiver(SECRET, port) as receiver:
        inspected = run_ccops(lab_home, "schedule", "run", "lab-inspect", "-i", inv, env=env, timeout=900)
        assert inspected.returncode == 0, inspected.stderr[-3000:]
    risks = payload(run_ccops(lab_home, "risks", "-i", inv, "-o", "json", env=env, check=True).stdout)["risks"]
    reverted = [r for r in risks if r["kind"] == "reverted"]
    assert [r["host"] for r in reverted] == [HOST] and not reverted[0]["damaged"], reverted
    assert reverted[0]["run_id"] == payload(patched.stdout)["run_id"]
    pushed = [m for m in receiver.accepted if m["event"] == "reverted"]
    assert pushed and any(line.startswith(f"{HOST}:") for line in pushed[0]["lines"]), receiver.accepted

    reapplied = run_ccops(lab_home, "schedule", "run", "lab-reapply", "-i", inv, "-o", "json", env=env, timeout=1800)
    assert reapplied.returncode == 0, reapplied.stderr[-3000:]
    run = payload(reapplied.stdout)
    record = payload(run_ccops(lab_home, "runs", "show", run["run_id"], "-o", "json", env=env, check=True).stdout)
    assert record["request"]["reason"] == f"reverted after {reverted[0]['run_id']}"
    assert record["request"]["schedule"]["name"] == "lab-reapply" and record["change_id"] == "STD-PATCH"
    assert versions(HOST) == after

    reboot(HOST)  # re-baselined by the re-apply: the card keeps the patch now
    assert versions(HOST) == after
    pexec(HOST, "rm", "-rf", OLD_BASELINE)
