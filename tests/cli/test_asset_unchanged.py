"""A host whose package set did not change answers "unchanged: <digest>"; ccops fills in the stored set.

Through the real CLI with hosts simulated at the runner's event seam (tests/cli/scripted_cli.py):
a claim that matches the set ccops stored for that host is saved as that set; any other claim
(a made-up digest, another host's, not text at all) is the host's damaged data, never trusted.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ccops.hostdata.asset import known_packages, package_digest
from ccops.store.records import Store
from tests.cli.test_hostile_hosts import HEALTHY, SITE
from tests.conftest import run_scripted, write_inventory
from tests.json_output import payload

HOSTS = ("tst-a01", "tst-a02", "tst-a03", "tst-r01", "tst-r02")


def _report(packages: Any) -> dict[str, Any]:
    report = copy.deepcopy(HEALTHY)
    report["packages"] = packages
    return report


def _set(host: str) -> dict[str, Any]:
    items = {"bash": "5.2", "softphone": "1.0", f"tool-{host}": "1.0"}  # every host's set is its own
    return {"count": len(items), "items": items}


@pytest.fixture
def inspect(tmp_path: Path):
    inv = write_inventory(tmp_path / "inv", {"tst.yml": SITE})
    home = tmp_path / "home"

    def run(reports: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        result = run_scripted(
            "tests.cli.scripted_cli",
            home,
            tmp_path / "hosts.json",
            {"reports": reports},
            "inspect",
            "-i",
            str(inv),
            "-o",
            "json",
        )
        return result.returncode, payload(result.stdout)

    run.store = lambda: Store(home / "ccops.db")  # type: ignore[attr-defined]
    first, _ = run({h: _report(_set(h)) for h in HOSTS})
    assert first == 0
    return run


def _claim(host: str) -> str:
    return "unchanged: " + package_digest(_set(host)["items"])


def test_an_unchanged_set_is_not_sent_but_the_saved_record_holds_it(inspect):
    code, data = inspect({h: _report(_claim(h)) for h in HOSTS})
    assert code == 0 and {h["outcome"] for h in data["hosts"]} == {"ok"}
    store = inspect.store()
    for host in HOSTS:
        asset = store.asset(host)
        assert asset["run_id"] == data["run_id"]
        assert asset["record"]["packages"] == _set(host) and "damaged" not in asset["record"]


def test_the_digests_a_batch_is_given_are_those_of_the_stored_sets(inspect):
    store = inspect.store()
    stored = {h: store.asset(h)["record"] for h in HOSTS}
    known = known_packages([*HOSTS, "tst-new"], stored.get)
    assert known == {h: package_digest(_set(h)["items"]) for h in HOSTS}  # a host never stored gets none


HOSTILE = {
    "tst-a02": "unchanged: " + "0" * 64,  # a digest of no stored set
    "tst-a03": _claim("tst-a01"),  # another host's set
    "tst-r01": ["unchanged: " + "0" * 64],  # not text
    "tst-r02": "unchanged: please trust me",
}


def test_hostile_unchanged_answers_are_recorded_damaged(inspect):
    before = {h: inspect.store().asset(h) for h in HOSTS}
    code, data = inspect({"tst-a01": _report(_claim("tst-a01")), **{h: _report(c) for h, c in HOSTILE.items()}})
    assert code == 2 and data["status"] == "failed"
    outcomes = {h["host"]: h for h in data["hosts"]}
    assert {h: o["outcome"] for h, o in outcomes.items()} == {"tst-a01": "ok", **dict.fromkeys(HOSTILE, "damaged")}
    assert all("packages" in outcomes[h]["message"] for h in HOSTILE)
    store = inspect.store()
    assert store.asset("tst-a01")["run_id"] == data["run_id"]
    for host in HOSTILE:  # nothing of a claim that does not hold is saved: the host keeps its last record
        after = store.asset(host)
        assert after["run_id"] == before[host]["run_id"] and after["record"]["packages"] == _set(host)
    assert store.asset("tst-a03")["record"]["packages"]["items"] != _set("tst-a01")["items"]
