"""ccops notify against a real HTTP receiver on loopback: signed, recorded, retried, never leaking a secret."""

from __future__ import annotations

import json
import socket
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ccops.inventory.load import load_inventory
from ccops.inventory.select import Selector
from ccops.notify import outbox
from ccops.notify.send import flush, queue_run, undelivered_risks
from ccops.report.risks import load_state, risk_list
from ccops.run import RunRequest, execute, open_store, prepare
from ccops.store.records import Store
from tests.cli.notify_receiver import Receiver
from tests.conftest import ccops_env, run_ccops
from tests.json_output import payload
from tests.notify_fixtures import SECRET, inventory, stored_run
from tests.scripted import ScriptedEngine

RULES = """\
channels:
  hook:
    kind: webhook
    url: http://127.0.0.1:{port}/ccops/in
    secret: {{env: CCOPS_TEST_HOOK_SECRET}}
rules:
  - events: [failed, halted, refused, rolled_back, succeeded]
    channels: [hook]
undelivered_risk_hours: 2
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CCOPS_TEST_HOOK_SECRET", SECRET)
    return tmp_path / "home"


def env(home: Path) -> dict[str, str]:
    return {**ccops_env(home), "CCOPS_TEST_HOOK_SECRET": SECRET}


def everything_written(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())


def test_a_run_s_report_reaches_a_signed_webhook_and_no_secret_is_anywhere(tmp_path: Path, home: Path) -> None:
    port = free_port()
    inv = inventory(tmp_path / "inv", RULES.format(port=port))
    run_id = stored_run(Store(home / "ccops.db"), inv)
    with Receiver(SECRET, port) as receiver:
        proc = run_ccops(home, "notify", "send", run_id[:12], env=env(home))
    assert proc.returncode == 0, proc.stderr
    assert "1 delivered, 0 pending" in proc.stdout
    assert receiver.rejected == 0 and len(receiver.accepted) == 1
    doc = receiver.accepted[0]
    assert doc["run"] == run_id and set(doc["events"]) == {"failed", "refused", "rolled_back"}
    assert [r["host"] for r in doc["refused"]] == ["bbb-t01"] and [u["host"] for u in doc["unknown"]] == ["bbb-t02"]
    assert doc["backups"][0]["sha256"] == "ab" * 32 and doc["rollbacks"][0]["host"] == "aaa-t02"
    # the channel's secret appeared in a host's text: redacted in the message, in the outbox and the attempts
    assert SECRET not in json.dumps(doc) and "<redacted by ccops>" in doc["refused"][0]["reason"]
    assert SECRET.encode() not in everything_written(home / "notify")
    status = payload(run_ccops(home, "notify", "status", "--output", "json", env=env(home), check=True).stdout)
    assert SECRET not in json.dumps(status)
    assert status["pending"] == [] and [a["delivered"] for a in status["attempts"]] == [1]
    # the run's own record says where its report went
    shown = run_ccops(home, "runs", "show", run_id, env=env(home), check=True).stdout
    assert "to hook at " in shown and ": delivered" in shown
    record = payload(run_ccops(home, "runs", "show", run_id, "-o", "json", env=env(home), check=True).stdout)
    assert [(d["channel"], d["delivered"]) for d in record["deliveries"]] == [("hook", 1)]


def test_a_wrong_signature_is_rejected_and_the_message_stays_pending(tmp_path: Path, home: Path) -> None:
    port = free_port()
    inv = inventory(tmp_path / "inv", RULES.format(port=port))
    run_id = stored_run(Store(home / "ccops.db"), inv)
    with Receiver("the receiver's own secret", port) as receiver:
        proc = run_ccops(home, "notify", "send", run_id, env=env(home))
    assert proc.returncode == 1 and "not delivered" in proc.stderr
    assert receiver.accepted == [] and receiver.rejected == 1
    status = payload(run_ccops(home, "notify", "status", "--output", "json", env=env(home), check=True).stdout)
    assert len(status["pending"]) == 1 and status["attempts"][0]["delivered"] == 0
    assert "401" in status["attempts"][0]["error"]  # the receiver's answer, as Apprise reported it


def test_undelivered_reports_wait_in_a_private_outbox_become_a_risk_and_arrive_after_the_server_returns(
    tmp_path: Path, home: Path
) -> None:
    port = free_port()  # nothing listens there yet: the server is down
    inv = inventory(tmp_path / "inv", RULES.format(port=port))
    store = Store(home / "ccops.db")
    run_id = stored_run(store, inv)
    queued = queue_run(store.resolve_run(run_id))
    assert flush(store)[0] == 0
    folder = home / "notify" / "outbox"
    files = list(folder.glob("*.json"))
    assert len(files) == 1 and stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    kept = json.loads(files[0].read_text())
    assert kept["attempts"] == 1 and SECRET not in files[0].read_text() and "redacted by ccops" in kept["body"]
    assert undelivered_risks() == []  # not old yet
    later = datetime.now(UTC) + timedelta(hours=3)
    risks = undelivered_risks(later)
    assert [r["kind"] for r in risks] == ["notify_undelivered"] and run_id in risks[0]["detail"]
    listed = risk_list(load_inventory(inv), load_state(store, later))  # what ccops risks and the report show
    assert [r["detail"] for r in listed if r["kind"] == "notify_undelivered"] == [risks[0]["detail"]]
    with Receiver(SECRET, port) as receiver:
        proc = run_ccops(home, "notify", "flush", env=env(home))
    assert proc.returncode == 0, proc.stderr
    assert [d["run"] for d in receiver.accepted] == [run_id] and receiver.accepted[0]["run"] == queued[0].run_id
    assert list(folder.glob("*.json")) == [] and undelivered_risks(later) == []
    assert [a["delivered"] for a in outbox.attempts(store, run_id)] == [0, 1]


SITE = """\
site:
  code: aaa
  city: testcity
  timezone: UTC
  maintenance_windows: [{start: "00:00", end: "00:00"}]
  rollout: {canary: 1, waves: ["100%"], batch_size: 2, max_fail_percentage: 100}
connections:
  linux: {type: ssh, user: ccops, become: true}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: aaa-t[01:03]
    addresses: 127.0.0.9
"""


def test_the_end_of_a_run_sends_its_report_and_a_delivery_failure_never_changes_its_result(
    tmp_path: Path, home: Path
) -> None:
    port = free_port()
    inv = inventory(tmp_path / "inv", RULES.format(port=port))
    for name in ("aaa.yml", "bbb.yml"):
        (inv / "sites" / name).unlink()
    (inv / "sites" / "aaa.yml").write_text(SITE)
    request = RunRequest(inv, "patch", Selector(), change_id="CHG-1")
    with Receiver(SECRET, port) as receiver:
        result = execute(prepare(request), engine=ScriptedEngine({"aaa-t02": "failed"}))
    assert result.status == "failed"
    assert [(d["run"], d["status"]) for d in receiver.accepted] == [(result.run_id, "failed")]
    assert {h["host"]: h["outcome"] for h in receiver.accepted[0]["hosts"]}["aaa-t02"] == "failed"
    # server down: the run's result stands, the report waits in the outbox
    second = execute(prepare(request), engine=ScriptedEngine())
    assert second.status == "succeeded" and second.exit_code == 0
    assert [m.run_id for m in outbox.pending()] == [second.run_id]
    assert open_store().run(second.run_id).status == "succeeded"


DIGEST_RULES = """\
channels:
  hook:
    kind: webhook
    url: http://127.0.0.1:{port}/ccops/in
    secret: {{env: CCOPS_TEST_HOOK_SECRET}}
  aaa-only:
    kind: webhook
    url: http://127.0.0.1:{port}/aaa
    secret: {{env: CCOPS_TEST_HOOK_SECRET}}
rules:
  - events: [digest]
    channels: [hook]
  - events: [new_risks]
    sites: [aaa]
    channels: [aaa-only]
"""


def test_the_digest_carries_each_site_s_numbers_and_new_risks_are_sent_once(tmp_path: Path, home: Path) -> None:
    port = free_port()
    inv = inventory(tmp_path / "inv", DIGEST_RULES.format(port=port))
    with Receiver(SECRET, port) as receiver:
        run_ccops(home, "notify", "digest", "-i", str(inv), env=env(home), check=True)
        first = list(receiver.accepted)
        run_ccops(home, "notify", "digest", "-i", str(inv), env=env(home), check=True)
    digests = [d for d in receiver.accepted if d["event"] == "digest"]
    assert len(digests) == 2
    lines = digests[0]["lines"]
    assert any(line.startswith("aaa: 2 hosts") for line in lines) and any(
        line.startswith("bbb: 2 hosts") for line in lines
    )
    risks = [d for d in first if d["event"] == "new_risks"]
    # never-inspected hosts are risks; the aaa channel hears only aaa's, and only the first time
    assert len(risks) == 1 and risks[0]["lines"] and all(line.startswith("aaa-") for line in risks[0]["lines"])
    assert [d["event"] for d in receiver.accepted[len(first) :]] == ["digest"]


def test_notify_test_reaches_one_channel_now_and_an_unknown_channel_is_one_line(tmp_path: Path, home: Path) -> None:
    port = free_port()
    inv = inventory(tmp_path / "inv", RULES.format(port=port))
    with Receiver(SECRET, port) as receiver:
        proc = run_ccops(home, "notify", "test", "hook", "-i", str(inv), env=env(home))
    assert proc.returncode == 0 and "channel hook: delivered" in proc.stdout
    assert [d["kind"] for d in receiver.accepted] == ["test"]
    wrong = run_ccops(home, "notify", "test", "pager", "-i", str(inv), env=env(home))
    assert wrong.returncode == 1 and wrong.stderr.strip() == "ccops: no channel 'pager' in notify.yml; known: hook"
    down = run_ccops(home, "notify", "test", "hook", "-i", str(inv), env=env(home))
    assert down.returncode == 1 and "not delivered" in down.stderr and "Traceback" not in down.stderr


def test_a_flush_tries_a_down_channel_once_not_once_per_waiting_message(tmp_path: Path, home: Path) -> None:
    inv = inventory(tmp_path / "inv", RULES.format(port=free_port()))
    store = Store(home / "ccops.db")
    for n in range(3):
        queue_run(store.resolve_run(stored_run(store, inv, f"20261207T10150{n}-abcd123{n}")))
    delivered, left = flush(store)
    assert delivered == 0 and len(left) == 3
    assert len(outbox.attempts(store)) == 1


def test_a_channel_taken_out_of_notify_yml_drops_its_waiting_message_and_says_so(tmp_path: Path, home: Path) -> None:
    inv = inventory(tmp_path / "inv", RULES.format(port=free_port()))
    store = Store(home / "ccops.db")
    run_id = stored_run(store, inv)
    queue_run(store.resolve_run(run_id))
    assert len(flush(store)[1]) == 1  # the server is down: the message waits
    (inv / "notify.yml").write_text("channels: [\n")  # a broken file never drops what waits
    assert len(flush(store)[1]) == 1
    (inv / "notify.yml").write_text("channels: {}\nrules: []\n")  # the operator retires the channel
    assert flush(store) == (0, [])
    assert outbox.pending() == [] and undelivered_risks(datetime.now(UTC) + timedelta(days=3)) == []
    last = outbox.attempts(store, run_id)[-1]
    assert last["delivered"] == 0 and "dropped: channel hook is no longer in notify.yml" in last["error"]
