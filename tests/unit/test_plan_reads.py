"""A plan reads every host's asset record in one transaction, and reads exactly what one read at a time gives."""

from __future__ import annotations

import pytest

from ccops.software.desired import one_transaction
from ccops.store.db import StoreError
from ccops.store.records import Store
from tests import fleet_records


def test_one_transaction_reads_what_single_reads_give_and_writes_nothing(tmp_path):
    store = Store(tmp_path / "ccops.db")
    hosts = {f"h{i:03}": fleet_records.record(uptime_seconds=i) for i in range(20)}
    fleet_records.inspect(store, "20261201T000000Z-aaaaaaaa", hosts)
    alone = {name: store.asset(name) for name in [*hosts, "never-seen"]}
    database = store.db
    with one_transaction(store):
        shared = {name: store.asset(name) for name in [*hosts, "never-seen"]}
        with pytest.raises(StoreError):
            store.finish_run("20261201T000000Z-aaaaaaaa", "failed", 1)
    assert shared == alone and alone["h007"]["record"]["uptime_seconds"] == 7 and alone["never-seen"] is None
    assert store.db is database
    assert store.run("20261201T000000Z-aaaaaaaa").status == "succeeded"  # the refused write changed nothing
