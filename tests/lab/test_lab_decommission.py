"""Decommissioning on real hosts: guards that touch nothing, a verified wipe, evidence, resume.

Uses a copy of the lab inventory in which two hosts are retiring (lab-deb11-01, an agent
desktop; lab-deb13-01, made a crm_server) and lab-deb12-01 stays active and untouched. The
site's cap is one host per run, its end state hand_back (the container keeps running, so the
test can look inside), and its one hook waits on a lock the test can hold. The tests run in
file order and build on each other; at the end the decommissioned hosts are given back to the
lab (key, password, restore card) and what the tests put on them is removed.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, ROOT, ccops_env, run_ccops
from tests.json_output import payload
from tests.lab.conftest import pexec, reboot
from tests.lab.test_lab_patch import _kill_tree

pytestmark = pytest.mark.lab
AGENT, SERVER, ACTIVE = "lab-deb11-01", "lab-deb13-01", "lab-deb12-01"
DATA, CERT, ACCOUNT = "/srv/ccops-data", "/etc/ssl/private/agent.key", "agent01"
GATE, HOOK_MARK = "/run/ccops-lab-gate", "/var/lib/ccops-lab/hook-ran"
LEFT_ON_HOST = (DATA, "/var/tmp/ccops-data-link", "/var/lib/ccops", HOOK_MARK, GATE, "/run/ccops-gate.pid")
STATE: dict = {}


def _inventory(tmp: Path) -> Path:
    """The lab inventory, two hosts retiring, with comments a person would have written."""
    inv = tmp / "inv"
    shutil.copytree(ROOT / "inventory" / "lab", inv)
    site_file = inv / "sites" / "lab.yml"
    site = yaml.safe_load(site_file.read_text())
    site["site"]["decommission"] = {
        "max_hosts": 1,
        "end_state": "hand_back",
        "hooks": [["flock", GATE, "touch", HOOK_MARK]],
    }
    for group in site["groups"]:
        if group["hosts"] == [SERVER]:
            group["role"] = "crm_server"
    for host in (AGENT, SERVER):
        site["hosts"][host].update(
            lifecycle="retiring",
            vars={
                "decommission_accounts": [ACCOUNT],
                "decommission_certificates": [CERT],
                "decommission_data_paths": [DATA],
            },
        )
    text = "# lab site, copied for the decommission tests\n" + yaml.safe_dump(site, sort_keys=False, width=100)
    for host in (AGENT, SERVER):
        text = text.replace(f"  {host}:\n", f"  {host}:  # asset returned to the vendor, CHG-RET\n")
    site_file.write_text(text)
    return inv


def _prepare(host: str) -> None:
    """An agent's account, a client key and recordings; the card baseline keeps them (as a site would)."""
    pexec(host, "useradd", "--create-home", ACCOUNT)
    pexec(host, "mkdir", "-p", f"{DATA}/calls/2026", "/etc/ssl/private")
    for name, size in (("calls/2026/a.wav", "3M"), ("calls/2026/b.wav", "700K"), ("notes.txt", "5K")):
        pexec(host, "sh", "-c", f'head -c {size} /dev/urandom > "$1"', "sh", f"{DATA}/{name}")
    pexec(host, "sh", "-c", 'head -c 2K /dev/urandom > "$1"', "sh", CERT)
    # a second name for one recording, outside the data path: it reads whatever the wipe left in the file
    pexec(host, "ln", f"{DATA}/calls/2026/a.wav", "/var/tmp/ccops-data-link")
    pexec(host, "/usr/local/sbin/ccops-restore-card", "rebaseline")


def _host_state(host: str) -> dict[str, str]:
    """What the guards must leave exactly as it was."""
    files = pexec(host, "sh", "-c", f"find {DATA} {CERT} -type f -exec sha256sum {{}} + | sort", check=False)
    return {
        "files": files,
        "account": pexec(host, "getent", "passwd", ACCOUNT, check=False),
        "keys": pexec(host, "sha256sum", "/home/ccops/.ssh/authorized_keys", check=False),
        "shadow": pexec(host, "sh", "-c", "getent shadow ccops | cut -d: -f2 | sha256sum"),
        "card": pexec(host, "/usr/local/sbin/ccops-restore-card", "status"),
        "ccops": pexec(host, "ls", "-A", "/var/lib/ccops", check=False),
        "hook": pexec(host, "ls", HOOK_MARK, check=False),
    }


def _address(host: str) -> str:
    site = yaml.safe_load((ROOT / "inventory" / "lab" / "sites" / "lab.yml").read_text())
    return site["hosts"][host]["address"]


def _ssh(home: Path, host: str) -> subprocess.CompletedProcess:
    lab = home / "lab"
    return subprocess.run(
        ["ssh", "-i", str(lab / "id_ed25519"), "-o", f"UserKnownHostsFile={lab / 'known_hosts'}", "-o",
         "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ControlPath=none", "-o", "ConnectTimeout=10",
         f"ccops@{_address(host)}", "true"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def lab(lab_home, tmp_path_factory):
    run_ccops(lab_home, "lab", "up", "--hosts", "3", check=True, timeout=1800)
    inv = _inventory(tmp_path_factory.mktemp("decommission"))
    for host in (AGENT, SERVER):
        _prepare(host)
    STATE["inv"], STATE["site"] = inv, (inv / "sites" / "lab.yml").read_text()
    yield lab_home, inv
    for host in (AGENT, SERVER):  # give the hosts back to the lab: the next modules expect them as lab up made them
        pexec(host, "userdel", "--remove", ACCOUNT, check=False)
        pexec(host, "rm", "-rf", CERT, *LEFT_ON_HOST, check=False)
    run_ccops(lab_home, "lab", "up", "--hosts", "3", timeout=1800)  # key, sudo password, restore card again


def _decommission(home: Path, inv: Path, *args: str) -> subprocess.CompletedProcess:
    return run_ccops(
        home, "decommission", "-i", str(inv), "--change-id", "CHG-RET", "--output", "json", *args, timeout=1200
    )


def test_every_guard_refuses_and_no_host_changes(lab):
    home, inv = lab
    before = {h: _host_state(h) for h in (AGENT, SERVER, ACTIVE)}
    STATE["active"] = before[ACTIVE]
    assert _ssh(home, AGENT).returncode == 0  # the operator's key logs in before
    cases = [
        (["--limit", ACTIVE, "--confirm", ACTIVE], f"{ACTIVE} (active)"),
        (["--limit", AGENT, "--confirm", "lab-deb11-1"], f"not typed: {AGENT}"),
        (["--limit", AGENT, "--limit", SERVER, "--include-servers", "--confirm", f"{AGENT} {SERVER}"], "max_hosts"),
        (["--limit", SERVER, "--confirm", SERVER], "--include-servers"),
    ]
    for args, words in cases:
        result = _decommission(home, inv, *args)
        assert result.returncode == 5 and words in result.stderr, (args, result.stderr)
    assert {h: _host_state(h) for h in before} == before
    assert (inv / "sites" / "lab.yml").read_text() == STATE["site"]
    assert payload(run_ccops(home, "runs", "list", "--verb", "decommission", "--output", "json").stdout) == []


def test_a_retiring_desktop_is_decommissioned_with_evidence(lab):
    home, inv = lab
    result = _decommission(home, inv, "--limit", AGENT, "--confirm", AGENT)
    data = payload(result.stdout)
    assert result.returncode == 0 and data["status"] == "succeeded", result.stderr[-3000:]
    report = data["reports"][AGENT]
    STATE["run"] = data["run_id"]
    assert report["outcome"] == "decommissioned" and report["final_backup_reused"] is False
    # the final backup verifies at the target and is the one the run recorded
    backup = report["final_backup"]
    listed = payload(run_ccops(home, "backups", "list", AGENT, "--output", "json", check=True).stdout)
    final = [b for b in listed if b["id"] == backup["id"]]
    assert final and final[0]["verified"] and final[0]["recorded"] and not final[0]["differs"]
    archive = next((home / "lab" / "backups" / AGENT).glob(f"{backup['id']}/archive.tar.gz"))
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == backup["sha256"]
    # access: the operator's key no longer logs in, the account and the key file are gone
    denied = _ssh(home, AGENT)
    assert denied.returncode == 255 and "Permission denied" in denied.stderr, denied.stderr
    assert pexec(AGENT, "getent", "passwd", ACCOUNT, check=False) == ""
    assert pexec(AGENT, "ls", CERT, check=False) == "" and pexec(AGENT, "ls", HOOK_MARK).strip() == HOOK_MARK
    # data: the folder is empty, and the recording's other name reads back zeros: overwritten, not just unlinked
    assert pexec(AGENT, "find", DATA, "-mindepth", "1") == ""
    assert pexec(AGENT, "sh", "-c", "tr -d '\\000' < /var/tmp/ccops-data-link | wc -c").strip() == "0"
    assert pexec(AGENT, "stat", "-c", "%s", "/var/tmp/ccops-data-link").strip() == str(3 * 1024 * 1024)
    (wiped,) = report["sanitised"]
    assert (wiped["path"], wiped["result"], wiped["files"]) == (DATA, "passed", 3)
    # evidence: the certificate, printable and in the chain
    cert = payload(run_ccops(home, "runs", "certificate", STATE["run"], AGENT, "--output", "json").stdout)
    assert cert["document"]["final_backup"]["id"] == backup["id"] and cert["document"]["change_id"] == "CHG-RET"
    assert cert["document"]["sanitised"] == report["sanitised"] and cert["sha256"] == cert["document_sha256"]
    text = run_ccops(home, "runs", "certificate", STATE["run"], AGENT, check=True).stdout
    assert "NIST SP 800-88" in text and backup["id"] in text and "Record seal" in text
    # the inventory: exactly the state lines, comments kept
    now = (inv / "sites" / "lab.yml").read_text()
    diff = difflib.unified_diff(STATE["site"].splitlines(), now.splitlines(), n=0)
    changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    today = cert["document"]["issued"][:10]
    assert changed == ["-    lifecycle: retiring", "+    lifecycle: retired", f'+    retired_on: "{today}"']
    STATE["site"] = now
    # the restore card is off for good: after a reboot the account, the key file and the login stay gone
    # (its baseline, taken with them present, would have brought them back)
    assert pexec(AGENT, "/usr/local/sbin/ccops-restore-card", "status").startswith("disabled")
    reboot(AGENT)
    assert pexec(AGENT, "getent", "passwd", ACCOUNT, check=False) == "" and pexec(AGENT, "ls", CERT, check=False) == ""
    assert pexec(AGENT, "getent", "shadow", "ccops").split(":")[1].startswith("!")  # password locked
    assert _ssh(home, AGENT).returncode == 255


def test_a_kill_between_the_final_backup_and_the_wipe_then_resume_wipes_once(lab):
    home, inv = lab
    original = _host_state(SERVER)["files"]
    hold = "echo $$ > /run/ccops-gate.pid; exec sleep 900"
    # the site hook waits on this lock: the run stops after its final backup
    holder = subprocess.Popen(["podman", "exec", f"ccops-lab-{SERVER}", "flock", GATE, "sh", "-c", hold])
    _wait(lambda: pexec(SERVER, "cat", "/run/ccops-gate.pid", check=False).strip(), "the gate")
    argv = [str(BIN / "ccops"), "decommission", "-i", str(inv), "--change-id", "CHG-RET2", "--limit", SERVER,
            "--include-servers", "--confirm", SERVER, "--output", "json"]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=ROOT, env=ccops_env(home), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        # the marker: the mark names a verified final backup, and the hook is waiting at the gate
        _wait(lambda: "final_backup" in pexec(SERVER, "cat", "/var/lib/ccops/decommission.json", check=False), "mark")
        _wait(lambda: pexec(SERVER, "pgrep", "-f", f"flock {GATE} touch", check=False).strip(), "hook")
    finally:
        _kill_tree(proc.pid)
        proc.wait()
    run = payload(run_ccops(home, "runs", "list", "--output", "json", check=True).stdout)[0]
    assert run["status"] == "running" and run["change_id"] == "CHG-RET2"
    assert _host_state(SERVER)["files"] == original  # nothing wiped without the run going on
    assert pexec(SERVER, "cat", "/var/lib/ccops/decommission-wipes.log", check=False) == ""
    mark = json.loads(pexec(SERVER, "cat", "/var/lib/ccops/decommission.json"))
    pexec(SERVER, "sh", "-c", 'kill "$(cat /run/ccops-gate.pid)"')
    holder.wait(timeout=60)
    resumed = run_ccops(home, "resume", run["run_id"], "--yes", "--output", "json", timeout=1200)
    data = payload(resumed.stdout)
    assert resumed.returncode == 0 and data["status"] == "succeeded", resumed.stderr[-3000:]
    report = data["reports"][SERVER]
    assert report["outcome"] == "decommissioned" and report["final_backup_reused"] is True
    assert report["final_backup"] == mark["final_backup"]  # the backup verified before the kill, verified again
    finals = [b for b in payload(run_ccops(home, "backups", "list", SERVER, "--output", "json").stdout)
              if b["phase"] == "final"]  # fmt: skip
    assert [b["id"] for b in finals] == [mark["final_backup"]["id"]]  # no second backup of a half-revoked host
    wipes = pexec(SERVER, "cat", "/var/lib/ccops/decommission-wipes.log").splitlines()
    assert len(wipes) == 2 and f"run={run['run_id']} passed {DATA} files=3" in wipes[-1], wipes  # key file, then data
    assert pexec(SERVER, "find", DATA, "-mindepth", "1") == "" and _ssh(home, SERVER).returncode == 255
    assert (
        pexec(SERVER, "getent", "passwd", ACCOUNT, check=False) == "" and pexec(SERVER, "ls", CERT, check=False) == ""
    )
    cert = payload(run_ccops(home, "runs", "certificate", run["run_id"], SERVER, "--output", "json").stdout)
    assert cert["document"]["final_backup"] == mark["final_backup"] and cert["document"]["change_id"] == "CHG-RET2"
    now = (inv / "sites" / "lab.yml").read_text()
    diff = difflib.unified_diff(STATE["site"].splitlines(), now.splitlines(), n=0)
    changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    today = cert["document"]["issued"][:10]
    assert changed == ["-    lifecycle: retiring", "+    lifecycle: retired", f'+    retired_on: "{today}"']
    assert now.count("# asset returned to the vendor, CHG-RET") == 2
    shown = run_ccops(home, "runs", "show", run["run_id"], check=True).stdout
    assert f"final backup {mark['final_backup']['id']}" in shown and "1/1 path(s) sanitised" in shown


def test_the_untouched_host_still_works(lab):
    home, _ = lab
    assert _ssh(home, ACTIVE).returncode == 0
    assert _host_state(ACTIVE) == STATE["active"]


def test_runs_verify_detects_an_edited_old_record(lab):
    home, _ = lab
    ok = run_ccops(home, "runs", "verify", "--output", "json")
    assert ok.returncode == 0 and payload(ok.stdout)["ok"], ok.stdout
    store = home / "ccops.db"
    with sqlite3.connect(store) as db:
        (operator,) = db.execute("SELECT operator FROM runs WHERE id=?", (STATE["run"],)).fetchone()
        db.execute("UPDATE runs SET operator='someone-else' WHERE id=?", (STATE["run"],))
    try:
        bad = run_ccops(home, "runs", "verify", "--full")  # an old record: the default checks what is new
        assert bad.returncode == 1 and f"run {STATE['run']}" in bad.stderr and "edited" in bad.stderr, bad.stderr
    finally:
        with sqlite3.connect(store) as db:  # the session's store is shared: put it back as it was
            db.execute("UPDATE runs SET operator=? WHERE id=?", (operator, STATE["run"]))
    assert run_ccops(home, "runs", "verify").returncode == 0


def _wait(probe, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")
