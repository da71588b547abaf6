"""A decommission run (scripted engine): certificates in the chain, hosts retired in their site
file batch by batch, the run's own edits never stopping it, resume finishing what is left."""

from __future__ import annotations

import os
import signal

import pytest

from ccops.cli.runs_cmd import report_detail
from ccops.decommission.certificate import render_text
from ccops.errors import EXIT_INTERRUPTED, EXIT_OK
from ccops.inventory.load import load_inventory
from ccops.inventory.select import Selector
from ccops.run import RunRequest, execute, open_store, prepare, resume_run
from tests.conftest import write_inventory
from tests.scripted import ScriptedEngine
from tests.unit.test_run_loop import SITE

HOSTS = ["tst-t01", "tst-t02", "tst-t03"]
RETIRING = SITE + "    lifecycle: retiring\n# kept: a comment at the end\n"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def inventory(tmp_path):
    return write_inventory(tmp_path / "inv", {"tst.yml": RETIRING.replace("tst-t[01:05]", "tst-t[01:03]")})


def _engine(**kwargs) -> ScriptedEngine:
    done = {"outcome": "decommissioned", "reason": "", "final_backup": {"id": "b1", "sha256": "0" * 64}}
    return ScriptedEngine(reports={h: {**done, "sanitised": [{"path": f"/srv/{h}"}]} for h in HOSTS}, **kwargs)


def _request(inventory) -> RunRequest:
    options = {"decommission_confirmed": HOSTS, "decommission_include_servers": False}
    return RunRequest(inventory, "decommission", Selector(), change_id="CHG-D", batch_size=1, options=options)


def test_each_batch_retires_its_hosts_and_the_run_goes_on(home, inventory):
    result = execute(prepare(_request(inventory)), engine=_engine())
    assert result.exit_code == EXIT_OK, result.message
    hosts = load_inventory(inventory).hosts
    assert {hosts[h].lifecycle for h in HOSTS} == {"retired"}
    text = (inventory / "sites" / "tst.yml").read_text()
    assert text.count("retired_on:") == 3 and "\n# kept: a comment at the end\nhosts:\n" in text
    store = open_store()
    assert store.certificates(result.run_id) == HOSTS
    cert = store.certificate(result.run_id, "tst-t02")
    assert cert["document"]["change_id"] == "CHG-D" and cert["document"]["sanitised"] == [{"path": "/srv/tst-t02"}]
    assert "lifecycle retired" in cert["document"]["inventory"]
    assert store.verify_chain().ok
    text = render_text(cert)
    assert "tst-t02" in text and "CHG-D" in text and f"Record seal     #{cert['seal']['seq']}" in text
    assert "/srv/tst-t02" in text and "WARNING" not in text
    assert "final backup b1" in report_detail(result.reports["tst-t02"])


def test_a_failed_host_is_neither_certified_nor_retired(home, inventory):
    result = execute(prepare(_request(inventory)), engine=_engine(script={"tst-t01": "failed"}))
    assert result.status in ("failed", "halted")
    assert load_inventory(inventory).hosts["tst-t01"].lifecycle == "retiring"
    assert "tst-t01" not in open_store().certificates(result.run_id)


def test_resume_after_an_interrupt_continues_despite_the_runs_own_edits(home, inventory):
    calls = []

    def interrupt(batch):
        calls.append(batch.hosts)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)

    first = execute(prepare(_request(inventory)), engine=_engine(during=interrupt))
    assert first.exit_code == EXIT_INTERRUPTED
    retired = {h for h, host in load_inventory(inventory).hosts.items() if host.lifecycle == "retired"}
    assert len(retired) == 2  # both batches that ran were recorded, their hosts retired
    resumed = resume_run(first.run_id, engine=_engine())
    assert resumed.exit_code == EXIT_OK
    assert {h.lifecycle for h in load_inventory(inventory).hosts.values()} == {"retired"}
    assert open_store().certificates(first.run_id) == HOSTS and open_store().verify_chain().ok
