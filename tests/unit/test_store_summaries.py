"""A fleet read parses each distinct services list once: every summary reads exactly as when parsed whole."""

from __future__ import annotations

import json
from typing import Any

from ccops.store.asset_history import pack_summary
from ccops.store.records import _summary

SERVICES = [{"name": "ssh.service", "state": "running", "status": "enabled"}]
GOOD = {
    "collected": "2026-12-07T02:00:00+00:00",
    "uptime_seconds": 86400,
    "disks": [{"mount": "/", "size_mb": 60000, "free_mb": 100, "used_pct": 99.8}],
    "services": SERVICES,
    "security_names": ["libssl3"],
    "security_pending_since": {"libssl3": "2026-11-01T02:00:00+00:00"},
}
SUMMARIES: list[Any] = [
    GOOD,
    {**GOOD, "services": [*SERVICES, {"name": "cron.service", "state": "failed", "status": "enabled"}]},
    {**GOOD, "uptime_seconds": "soon"},  # damaged outside the services: noted, the services still read
    {**GOOD, "services": [{"name": ["not", "a", "name"], "state": 7}, *SERVICES]},  # damaged inside them
    {**GOOD, "services": "ssh"},
    {"services": SERVICES, "damaged": ["packages: unreadable"], "collected": "2026-12-06T02:00:00+00:00"},
    {"collected": "2026-12-07T02:00:00+00:00", "services": [], "undeclared": 1},
    ["not", "a", "summary"],
]


def test_summaries_read_with_shared_services_are_the_ones_read_whole():
    seen: dict[str, Any] = {}
    for raw in SUMMARIES * 2:  # twice: the second time every services list comes from what was seen
        for stored in (pack_summary(raw) if isinstance(raw, dict) else json.dumps(raw).encode(), json.dumps(raw)):
            whole, shared = _summary(stored), _summary(stored, seen=seen)
            assert list(shared.items()) == list(whole.items())  # same values, same order, same damage notes
    assert len(seen) == 4 and _summary(json.dumps(SUMMARIES[3]), seen=seen).get("damaged")


def test_a_shared_services_list_is_each_summarys_own():
    seen: dict[str, Any] = {}
    first, second = (_summary(pack_summary(GOOD), seen=seen) for _ in range(2))
    first["services"][0]["state"] = "failed"  # a reader marking its copy changes no other host's
    assert second["services"][0]["state"] == "running"


def test_the_fleets_compliance_reads_as_each_hosts_own(tmp_path):
    import sqlite3
    from contextlib import closing

    from ccops.store.asset_history import latest_compliance
    from ccops.store.records import Store

    store = Store(tmp_path / "home" / "ccops.db")
    usb = json.dumps([{"policy": "usb_storage", "detail": "loadable"}])
    texts = ["[]", usb, usb, "[]", '[{"detail": "no policy"}, {"policy": 7}]', "{not json", '{"a": 1}', usb]
    with closing(sqlite3.connect(store.path)) as db, db:
        db.executemany(
            "INSERT INTO compliance_latest (host, run_id, started, checked, deviations) VALUES (?, 'r1', 's', 'c', ?)",
            [(f"tst-t{i:02d}", text) for i, text in enumerate(texts)],
        )
    fleet = store.compliance()
    with closing(sqlite3.connect(store.path)) as db:
        one_by_one = {f"tst-t{i:02d}": latest_compliance(db, f"tst-t{i:02d}") for i in range(len(texts))}
    assert fleet == {h: e for h, e in one_by_one.items() if e is not None}
    assert sorted(fleet) == ["tst-t00", "tst-t01", "tst-t02", "tst-t03", "tst-t04", "tst-t07"]
    fleet["tst-t01"]["deviations"][0]["detail"] = "changed by a reader"
    assert fleet["tst-t02"]["deviations"][0]["detail"] == "loadable"  # each host's entry is its own
    assert store.compliance("tst-t04") == {"tst-t04": one_by_one["tst-t04"]}


def test_a_moments_two_fields_read_as_the_declared_shape_reads_them():
    from ccops.hostdata import read_summary
    from ccops.report.trends import _summary as moment

    when = "2026-12-07T02:00:00+00:00"
    for collected in (when, None, 20261207, "x" * 65, "a\x00b", "\ud800", ["list"]):
        for since in (when, None, "y" * 70, 5, "\ud800"):
            for raw in ({"collected": collected, "security_since": since}, {"collected": collected}, {}):
                clean = read_summary(raw)
                expected = {} if clean.get("damaged") else clean
                got = moment(json.dumps(raw))
                assert list(got.items()) == list(expected.items()), raw


def test_summaries_kept_before_and_after_the_shared_words_read_alike_and_new_ones_are_smaller():
    import zlib

    from ccops.store.asset_history import summary_text

    text = json.dumps(GOOD, sort_keys=True, separators=(",", ":"))
    older = zlib.compress(text.encode(), 6)  # as a store kept it before SUMMARY_WORDS
    assert summary_text(older) == summary_text(pack_summary(GOOD)) == summary_text(text) == text
    assert len(pack_summary(GOOD)) < len(older) * 0.8
    for broken in (older[:-3], pack_summary(GOOD)[:-3], b"not compressed", b""):
        assert summary_text(broken) is None  # read as damaged, never a crash
