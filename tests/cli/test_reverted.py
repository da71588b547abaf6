"""Reverted patches through a real store: the risk, the host section, and the pushed ``reverted`` event."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ccops.inventory.load import check_inventory
from ccops.inventory.select import Selector
from ccops.notify.send import notify_run_end, queue_reverted
from ccops.report.reapply import reapply_request
from ccops.report.reverted import REVERTED, by_host, host_risks, risks, show_lines
from ccops.run import execute, prepare
from ccops.store import records
from ccops.store.records import Store
from tests.cli.notify_receiver import Receiver
from tests.conftest import ccops_env, run_ccops
from tests.notify_fixtures import HOSTILE, SECRET, inventory
from tests.scripted import ScriptedEngine

PATCH_RUN = "20261201T100000Z-patch001"
ROLLBACK_RUN = "20261202T100000Z-rollb001"
INSPECT_RUN = "20261203T080000Z-insp0001"
RULES = """\
channels:
  hook:
    kind: webhook
    url: http://127.0.0.1:{port}/ccops/in
    secret: {{env: CCOPS_TEST_HOOK_SECRET}}
rules:
  - events: [reverted]
    channels: [hook]
"""
PATCHED = {"openssl": "3.0.15-1~deb12u1", "curl": "7.88.1-10+deb12u8", "bash": "5.2.15-2+b2"}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CCOPS_TEST_HOOK_SECRET", SECRET)
    return tmp_path / "home"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The store's clock, one step per call: runs and inspections get the order the test gives them."""
    times: list[str] = []
    ticks = itertools.count()
    monkeypatch.setattr(records, "now", lambda: times[min(next(ticks), len(times) - 1)])
    yield times


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stored(store: Store, inv: Path, run_id: str, verb: str, hosts: list[dict[str, Any]]) -> None:
    store.start_run(
        run_id, verb, operator="op", change_id="CHG-9", git_commit=None, inventory=str(inv),
        inventory_sha256="0" * 64, selectors={}, request={"verb": verb}, plan=[],
    )  # fmt: skip
    store.record_hosts(run_id, hosts)
    store.finish_run(run_id, "succeeded", 0, "done")


def patch(store: Store, inv: Path) -> None:
    report = {
        "outcome": "patched",
        "reason": "2 updates",
        "versions_after": {"openssl": "3.0.15-1~deb12u1", "curl": "7.88.1-10+deb12u8"},
        "packages_changed": {
            "changed": {"openssl": "3.0.11-1~deb12u1 -> 3.0.15-1~deb12u1"},
            "added": {},
            "removed": {},
        },
    }
    stored(store, inv, PATCH_RUN, "patch", [{"host": "aaa-t01", "outcome": "ok", "changed": True, "report": report}])


def inspect(store: Store, inv: Path, items: dict[str, Any], run_id: str = INSPECT_RUN) -> None:
    report = {"outcome": "inspected", "uptime_seconds": 600, "packages": {"count": len(items), "items": items}}
    store.start_run(
        run_id, "inspect", operator="op", change_id=None, git_commit=None, inventory=str(inv),
        inventory_sha256="0" * 64, selectors={}, request={"verb": "inspect"}, plan=[],
    )  # fmt: skip
    store.record_hosts(run_id, [{"host": "aaa-t01", "outcome": "ok", "changed": False, "report": report}])
    store.save_assets(run_id, {"aaa-t01": report})
    store.finish_run(run_id, "succeeded", 0, "ok=1")


def times(clock: list[str], *stamps: str) -> None:
    clock.extend(f"2026-12-0{s}+00:00" for s in stamps)


def test_a_hostile_version_in_the_inspection_is_a_damaged_risk_still_naming_what_went_back(
    tmp_path: Path, home: Path, clock: list[str]
) -> None:
    inv = inventory(tmp_path / "inv", RULES.format(port=free_port()))
    model, _ = check_inventory(inv)
    assert model is not None
    store = Store(home / "ccops.db")
    times(clock, "1T10:00:00", "1T10:00:00", "1T10:20:00", "3T08:00:00", "3T08:00:00", "3T08:01:00", "3T08:01:00")
    patch(store, inv)
    inspect(store, inv, {**PATCHED, "openssl": "3.0.11-1~deb12u1", "curl": HOSTILE})
    found = risks(store, model)
    assert [(r["host"], r["kind"]) for r in found] == [("aaa-t01", REVERTED)]
    risk = found[0]
    # curl's "version" is not one: the host's check is damaged (shown escaped), openssl is still named
    assert risk["run_id"] == PATCH_RUN and risk["damaged"] and risk["detail"].startswith("damaged: curl: not a Debian")
    assert "\x1b" not in risk["detail"] and "\x07" not in risk["detail"]
    assert [p["name"] for p in risk["packages"]] == ["openssl"]
    assert risk["boot_time"] == "2026-12-03T07:50:00+00:00"
    assert risks(store, model, {"bbb"}) == []


def test_inspection_after_the_patch_shows_it_in_host_show_and_risks(
    tmp_path: Path, home: Path, clock: list[str]
) -> None:
    inv = inventory(tmp_path / "inv", RULES.format(port=free_port()))
    model, _ = check_inventory(inv)
    assert model is not None
    store = Store(home / "ccops.db")
    times(clock, "1T10:00:00", "1T10:00:00", "1T10:20:00", "3T08:00:00", "3T08:00:00", "3T08:01:00", "3T08:01:00")
    patch(store, inv)
    inspect(store, inv, {k: v for k, v in PATCHED.items() if k != "curl"} | {"openssl": "3.0.11-1~deb12u1"})
    found = by_host(store)
    risk = host_risks(model.hosts["aaa-t01"], found)[0]
    assert risk["kind"] == REVERTED and risk["run_id"] == PATCH_RUN
    assert [(p["name"], p["expected"], p["found"]) for p in risk["packages"]] == [
        ("curl", "7.88.1-10+deb12u8", None),
        ("openssl", "3.0.15-1~deb12u1", "3.0.11-1~deb12u1"),
    ]
    assert PATCH_RUN in risk["detail"] and "2026-12-03T07:50:00+00:00" in risk["detail"]
    lines = show_lines(found.get("aaa-t01"))
    assert lines[0].startswith("Reverted packages: 2 taken back; booted 2026-12-03T07:50:00")
    assert any("curl: 7.88.1-10+deb12u8 -> removed" in line for line in lines)
    assert host_risks(model.hosts["aaa-t02"], found) == []


def test_a_rollback_run_between_is_not_reverted(tmp_path: Path, home: Path, clock: list[str]) -> None:
    inv = inventory(tmp_path / "inv", RULES.format(port=free_port()))
    model, _ = check_inventory(inv)
    assert model is not None
    store = Store(home / "ccops.db")
    times(clock, "1T10:00:00", "1T10:00:00", "1T10:20:00", "2T10:00:00", "2T10:00:00", "2T10:05:00")
    times(clock, "3T08:00:00", "3T08:00:00", "3T08:01:00", "3T08:01:00")
    patch(store, inv)
    back = {"outcome": "rolled_back", "reason": "operator", "rollback": {"id": "b1", "paths": []}}
    stored(
        store, inv, ROLLBACK_RUN, "rollback", [{"host": "aaa-t01", "outcome": "ok", "changed": True, "report": back}]
    )
    inspect(store, inv, {**PATCHED, "openssl": "3.0.11-1~deb12u1"})
    assert risks(store, model) == []


def test_the_reverted_event_is_routed_to_its_channel(tmp_path: Path, home: Path, clock: list[str]) -> None:
    port = free_port()
    inv = inventory(tmp_path / "inv", RULES.format(port=port))
    store = Store(home / "ccops.db")
    times(clock, "1T10:00:00", "1T10:00:00", "1T10:20:00", "3T08:00:00", "3T08:00:00", "3T08:01:00", "3T08:01:00")
    patch(store, inv)
    inspect(store, inv, {**PATCHED, "openssl": "3.0.11-1~deb12u1"})
    with Receiver(SECRET, port) as receiver:
        notify_run_end(store, INSPECT_RUN)
    assert [d["event"] for d in receiver.accepted] == [REVERTED]
    lines = receiver.accepted[0]["lines"]
    assert len(lines) == 1 and lines[0].startswith("aaa-t01: 1 package(s) left by run " + PATCH_RUN)
    assert "openssl 3.0.15-1~deb12u1 -> 3.0.11-1~deb12u1" in lines[0]


def test_a_host_still_reverted_is_told_once_and_again_after_it_was_put_right_and_taken_back(
    tmp_path: Path, home: Path, clock: list[str]
) -> None:
    inv = inventory(tmp_path / "inv", RULES.format(port=free_port()))
    store = Store(home / "ccops.db")
    times(clock, "1T10:00:00", "1T10:00:00", "1T10:20:00")
    patch(store, inv)
    nights = [("3", {**PATCHED, "openssl": "3.0.11-1~deb12u1"}), ("4", {**PATCHED, "openssl": "3.0.11-1~deb12u1"})]
    nights += [("5", PATCHED), ("6", {**PATCHED, "openssl": "3.0.11-1~deb12u1"})]
    told = []
    for day, items in nights:
        times(clock, f"{day}T08:00:00", f"{day}T08:00:00", f"{day}T08:01:00", f"{day}T08:01:00")
        run_id = f"2026120{day}T080000Z-insp000{day}"
        inspect(store, inv, items, run_id)
        told.append(len(queue_reverted(store, store.resolve_run(run_id))))
    # night 4 finds the same packages taken back: no second message; night 5 puts it right; night 6 is news
    assert told == [1, 0, 0, 1]


def test_reapply_patches_only_the_reverted_hosts_and_the_record_says_why(
    tmp_path: Path, home: Path, clock: list[str]
) -> None:
    inv = inventory(tmp_path / "inv", RULES.format(port=free_port()))
    store = Store(home / "ccops.db")
    times(clock, "1T10:00:00", "1T10:00:00", "1T10:20:00", "3T08:00:00", "3T08:00:00", "3T08:01:00", "3T08:01:00")
    times(clock, "4T02:00:00")
    report = {"outcome": "patched", "reason": "", "versions_after": {"openssl": "3.0.15-1~deb12u1"}}
    store.start_run(
        PATCH_RUN, "patch", operator="op", change_id="CHG-9", git_commit=None, inventory=str(inv),
        inventory_sha256="0" * 64, selectors={}, request={"verb": "patch", "options": {"ccops_reboot": "always"}},
        plan=[],
    )  # fmt: skip
    store.record_hosts(
        PATCH_RUN, [{"host": h, "outcome": "ok", "changed": True, "report": report} for h in ("aaa-t01", "aaa-t02")]
    )
    store.finish_run(PATCH_RUN, "succeeded", 0, "ok=2")
    inspected = {"outcome": "inspected", "uptime_seconds": 60, "packages": {"count": 1, "items": {}}}
    store.start_run(
        INSPECT_RUN, "inspect", operator="op", change_id=None, git_commit=None, inventory=str(inv),
        inventory_sha256="0" * 64, selectors={}, request={"verb": "inspect"}, plan=[],
    )  # fmt: skip
    store.save_assets(
        INSPECT_RUN,
        {
            "aaa-t01": {**inspected, "packages": {"count": 1, "items": {"openssl": "3.0.11-1~deb12u1"}}},
            "aaa-t02": {**inspected, "packages": {"count": 1, "items": {"openssl": "3.0.15-1~deb12u1"}}},
        },
    )
    store.finish_run(INSPECT_RUN, "succeeded", 0, "ok=2")

    request, plan = reapply_request(store, inv, Selector(), "CHG-10", emergency=True)
    assert request is not None and plan is not None
    assert request.selector.limit == ("aaa-t01",) and request.options["ccops_reboot"] == "always"
    engine = ScriptedEngine()
    result = execute(prepare(request), engine=engine)
    assert result.status == "succeeded"
    assert [h for batch in engine.batches for h in batch.hosts] == ["aaa-t01"]
    record = store.run(result.run_id)
    assert record is not None and record.verb == "patch" and record.change_id == "CHG-10"
    assert [h["host"] for h in record.hosts] == ["aaa-t01"]
    assert record.request["reason"] == f"reverted after {PATCH_RUN}"
    # a site filter that leaves the reverted host out plans nothing
    assert reapply_request(store, inv, Selector(sites=("bbb",)), "CHG-10") == (None, None)


def test_reapply_with_nothing_reverted_says_so_and_touches_nothing(tmp_path: Path, home: Path) -> None:
    inv = inventory(tmp_path / "inv", RULES.format(port=free_port()))
    proc = run_ccops(home, "reapply", "-i", str(inv), "--change-id", "CHG-1", "--yes", env=ccops_env(home))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "no host took back an approved patch (all hosts)"
    assert Store(home / "ccops.db").runs() == []
