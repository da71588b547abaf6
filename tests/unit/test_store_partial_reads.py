"""Fleet views read only the parts of a record they show, and a large package set is checked at once,
with the same verdict as entry by entry."""

from __future__ import annotations

import json
import sqlite3
import zlib

import pytest

from ccops.hostdata.kinds import MapOf, Text, parse
from ccops.store.records import Store
from tests.fleet_records import record, start
from tests.unit.test_records_parts import night

PACKAGES = {"count": 300, "items": {f"lib{i:03d}": f"2.{i}-1" for i in range(300)}}


def test_assets_reads_every_host_once_and_only_the_named_fields(tmp_path):
    store = Store(tmp_path / "ccops.db")
    night(store, 1, ["tst-t01", "tst-t02"], packages=PACKAGES)
    got = store.assets(["tst-t01", "tst-t02", "tst-never"], keys=("os", "packages"))
    assert set(got) == {"tst-t01", "tst-t02"}  # a host never inspected is left out, as asset() says None
    whole = store.asset("tst-t01")
    assert whole is not None and whole["record"]["logs"]  # the whole record still has its log lines
    part = got["tst-t01"]["record"]
    assert part["packages"]["items"] == PACKAGES["items"] == whole["record"]["packages"]["items"]
    assert part["os"] == whole["record"]["os"]
    assert not part.get("logs") and not part.get("services")


def test_a_part_not_asked_for_is_not_read(tmp_path):
    """A damaged log part does not stop a vulnerability check reading the packages (nor is it hidden from
    the whole record, which is marked damaged)."""
    path = tmp_path / "ccops.db"
    store = Store(path)
    night(store, 1, ["tst-t01"], packages=PACKAGES)
    logs = store.asset("tst-t01")["record"]["logs"]  # type: ignore[index]
    with sqlite3.connect(path) as db:  # the log lines' part, whatever its name, made unreadable
        rows = db.execute("SELECT rowid, data FROM parts").fetchall()
        for rowid, data in rows:
            if json.loads(zlib.decompress(data)) == logs:
                db.execute("UPDATE parts SET data=x'00' WHERE rowid=?", (rowid,))
    assert store.assets(["tst-t01"], keys=("packages",))["tst-t01"]["record"]["packages"] == PACKAGES
    assert store.asset("tst-t01")["damaged"] == ["record"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("bad_key", "bad_value"),
    [
        ("", "1.0"),  # an empty name
        ("k" * 300, "1.0"),  # a name too long
        ("nul\x00name", "1.0"),
        ("surrogate\ud800", "1.0"),
        ("ok-name", "v\x00"),  # a version with NUL
        ("ok-name", "\udfff"),  # a lone surrogate
        ("ok-name", "x" * 5000),  # a version too long
        ("ok-name", 3),  # a number where a version belongs: read as its text, as entry by entry
        ("ok-name", None),
    ],
)
def test_one_unfit_entry_among_thousands_is_noted_as_entry_by_entry(bad_key, bad_value):
    items = {f"pkg{i:05d}": f"1.{i}" for i in range(5000)}
    items[bad_key] = bad_value
    clean, damaged = parse(MapOf(Text(256), max_items=50_000), items)
    one_by_one = {k: v for k, v in items.items() if k is not bad_key}
    assert {k: clean[k] for k in one_by_one} == one_by_one
    if bad_value == 3:
        assert clean[bad_key] == "3" and not damaged
    else:
        assert bad_key not in clean or clean[bad_key] != bad_value
        assert len(damaged) == 1


def test_a_plain_package_set_is_kept_whole():
    items = {f"pkg{i:05d}": f"1.{i}~\u00e9" for i in range(5000)}
    assert parse(MapOf(Text(256), max_items=50_000), items) == (items, [])
    assert parse(MapOf(Text(256)), {}) == ({}, [])


def test_vuln_rows_read_the_packages_only_where_a_site_has_something_to_judge_them_by(tmp_path, monkeypatch):
    """A site with an imported tracker gets its rows from the hosts' package sets; a site without content
    gets none, and its hosts never inspected are still named."""
    from ccops.content.snapshots import content_dir
    from ccops.inventory.load import check_inventory
    from ccops.vulns.fleet import debian_hosts, fleet_rows
    from ccops.vulns.tracker import Loaded
    from tests.conftest import EXAMPLE

    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    model, _ = check_inventory(EXAMPLE)
    assert model is not None
    chosen = debian_hosts(model, model.hosts.values())
    sites = sorted({h.site for h in chosen})
    judged, bare = sites[0], sites[1]
    one = next(h.name for h in chosen if h.site == judged)
    inspected = next(h.name for h in chosen if h.site == bare)
    never = [h.name for h in chosen if h.site == bare and h.name != inspected]
    store = Store(tmp_path / "home" / "ccops.db")
    start(store, "run-1", "inspect")
    os_ = {"distribution": "Debian", "version": "12", "variant": "debian12", "codename": "bookworm"}
    packages = {"count": 1, "items": {"libssl3": "3.0.11-1"}}
    store.save_assets("run-1", {h: record(os=os_, packages=packages) for h in (one, inspected)})
    content_dir(model)
    data = {"libssl3": {"CVE-2024-9143": {"bookworm": ("open", "", "high")}}}
    # a verified import for the judged site (signing and verifying run gpg: tests/integration covers them)
    monkeypatch.setattr(
        "ccops.vulns.fleet.load_tracker",
        lambda content, site, key: Loaded(data, "2026-12-01", None) if site == judged else Loaded({}, None, None),
    )
    rows, unseen = fleet_rows(model, store, chosen)
    assert [(r.host, r.cve, r.installed) for r in rows] == [(one, "CVE-2024-9143", "3.0.11-1")]
    assert inspected not in unseen and set(never) <= set(unseen)
