"""A killed deploy goes on with ccops resume: what its attempts imaged and activated is kept.

The run loop and DeployEngine are the real ones; only the machines are scripted
(imaging answers at once, the converge is the scripted engine's events). The VM
lab test (tests/lab/test_lab_image.py) kills a real deploy with real machines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ccops.errors import CcopsError
from ccops.image import deploy
from ccops.image.deploy import IMAGED_DIR, DeployEngine, read_kept
from ccops.image.imaging import ImagingResult
from ccops.inventory.load import load_inventory
from ccops.inventory.model import Host, Site
from ccops.inventory.select import Selector
from ccops.lab.vms import LabVM
from ccops.run import RunRequest, execute, open_store, prepare, resume_run
from ccops.run.identity import run_dir
from tests.scripted import ScriptedEngine

VMS = ("lab-vm-01", "lab-vm-02")
MANIFEST = {"name": "voice-debian12", "version": "2026.11.2", "artefacts": {}}


class Killed(BaseException):
    """The controller dying (kill -9) at a chosen point."""


@dataclass
class Machines:
    kill_imaging: str = ""  # this machine's imaging is under way when the controller dies
    kill_activating: str = ""  # the controller dies just before making this machine active
    imaged: list[str] = field(default_factory=list)  # every imaging that ended well, in order
    converge: ScriptedEngine = field(default_factory=ScriptedEngine)


class ScriptedDeploy(DeployEngine):
    machines: Machines

    def _image_site(self, run_dir: Path, site: Site, hosts: list[Host]) -> list[ImagingResult]:
        results = []
        for host in hosts:
            if host.name == self.machines.kill_imaging:
                raise Killed(host.name)
            result = ImagingResult(host.name, True, "first-boot", seconds={"pxe": 1.0})
            self._imaged(run_dir, host, result)
            self.machines.imaged.append(host.name)
            results.append(result)
        return results

    def _record_host_key(self, host: Host) -> None:
        pass  # a scripted machine has no sshd

    def _activate(self, name: str, run_id: str) -> None:
        if name == self.machines.kill_activating:
            raise Killed(name)
        super()._activate(name, run_id)


@pytest.fixture
def lab(tmp_path, monkeypatch):
    from ccops.lab.vm_inventory import write_vm_site

    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    machines = [LabVM(VMS[0], "52:54:00:cc:01:01", 40001), LabVM(VMS[1], "52:54:00:cc:01:02", 40002)]
    site = write_vm_site(tmp_path / "inv", machines, tmp_path / "lab", set(VMS))
    scripted = Machines()
    monkeypatch.setattr(deploy, "run_batch", scripted.converge.run)

    def engine(prepared, say=print):
        mode = prepared.request.options.get("ccops_deploy_mode", "image")
        made = ScriptedDeploy(prepared, MANIFEST, mode == "converge", mode == "rebuild", say=lambda line: None)
        made.machines = scripted
        return made

    monkeypatch.setattr(deploy, "engine_for", engine)
    return tmp_path / "inv", site, scripted


def _lifecycles(inventory: Path) -> list[str]:
    return [load_inventory(inventory).hosts[name].lifecycle for name in VMS]


def _only_run_id() -> str:
    runs = list(run_dir("x").parent.iterdir())
    assert len(runs) == 1, runs
    return runs[0].name


def _options() -> dict[str, str]:
    return {"ccops_image_name": MANIFEST["name"], "ccops_image_version": MANIFEST["version"]}


def _kill(inventory: Path, machines: Machines) -> str:
    request = RunRequest(inventory, "deploy", Selector(), change_id="CHG-RESUME-1", options=_options())
    prepared = prepare(request)
    with pytest.raises(Killed):
        execute(prepared, engine=deploy.engine_for(prepared))
    return _only_run_id()


def test_a_machine_imaged_before_the_kill_is_converged_not_imaged_again(lab):
    inventory, site, machines = lab
    before = site.read_text().splitlines()
    machines.kill_imaging = VMS[1]
    run = _kill(inventory, machines)
    assert machines.imaged == [VMS[0]]
    assert read_kept(run_dir(run), IMAGED_DIR, VMS[0])["image"]["version"] == "2026.11.2"
    assert _lifecycles(inventory) == ["planned", "planned"]  # nobody active before its converge

    machines.kill_imaging = ""
    result = resume_run(run)
    assert result.status == "succeeded", result.message
    assert machines.imaged == [VMS[0], VMS[1]]  # the first machine was not imaged again
    assert [b.hosts for b in machines.converge.batches] == [list(VMS)]
    assert _lifecycles(inventory) == ["active", "active"]
    after = site.read_text().splitlines()
    assert sorted(line for line in after if line not in before) == ["    lifecycle: active"] * 2
    assert open_store().run(run).status == "succeeded"


def test_a_machine_made_active_before_the_kill_is_edited_once(lab):
    inventory, site, machines = lab
    before = site.read_text().splitlines()
    machines.kill_activating = VMS[1]
    run = _kill(inventory, machines)
    assert _lifecycles(inventory) == ["active", "planned"]
    # the run's own edit is approved in its record: the resume does not take it for someone else's
    approved = open_store().run(run).plan["inventory_files"]
    assert approved == load_inventory(inventory).file_digests()

    machines.kill_activating = ""
    result = resume_run(run)
    assert result.status == "succeeded", result.message
    assert machines.imaged == list(VMS)  # each imaged once, across both attempts
    assert [b.hosts for b in machines.converge.batches] == [list(VMS), list(VMS)]
    assert _lifecycles(inventory) == ["active", "active"]
    after = site.read_text().splitlines()
    assert sorted(line for line in after if line not in before) == ["    lifecycle: active"] * 2


def test_a_failed_converge_forgets_the_imaging_so_the_next_attempt_images_again(lab):
    inventory, _, machines = lab
    machines.converge.script = {VMS[0]: "failed"}
    machines.kill_imaging = VMS[1]
    run = _kill(inventory, machines)
    assert read_kept(run_dir(run), IMAGED_DIR, VMS[0]) is not None  # killed before the converge
    machines.kill_imaging = ""
    result = resume_run(run)
    assert result.status != "succeeded"
    assert [(h.host, h.outcome) for h in result.hosts] == [(VMS[0], "failed"), (VMS[1], "ok")]
    assert read_kept(run_dir(run), IMAGED_DIR, VMS[0]) is None
    assert _lifecycles(inventory) == ["planned", "active"]


def test_a_resume_needs_the_build_the_run_was_approved_with(tmp_path, monkeypatch):
    from ccops.run.prepare import PreparedRun

    monkeypatch.setattr("ccops.image.build.cached_build", lambda img: None)
    request = RunRequest(
        tmp_path, "deploy", Selector(), options={"ccops_image_name": "voice-debian12", "ccops_image_version": "1999.1"}
    )
    prepared = PreparedRun(request, None, {})  # type: ignore[arg-type]
    with pytest.raises(CcopsError, match=r"voice-debian12 1999\.1, whose build is not in the cache"):
        deploy.engine_for(prepared, print)


def test_a_resumed_rebuild_restores_the_backup_taken_before_imaging(lab):
    from ccops.inventory.writer import set_host_fields

    inventory, _, machines = lab
    for name in VMS:
        set_host_fields(load_inventory(inventory), name, {"lifecycle": "active"})
    backup = {"outcome": "backed_up", "backup": {"id": "before-imaging", "verified": True}}
    machines.converge.reports = dict.fromkeys(VMS, backup)
    machines.kill_imaging = VMS[1]
    request = RunRequest(
        inventory,
        "deploy",
        Selector(),
        change_id="CHG-RESUME-2",
        options={**_options(), "ccops_deploy_mode": "rebuild"},
    )
    prepared = prepare(request, lifecycle=("active",))
    with pytest.raises(Killed):
        execute(prepared, engine=deploy.engine_for(prepared))
    run = _only_run_id()
    machines.kill_imaging = ""
    machines.converge.reports = {}  # a backup taken now would be of the new disk: none is taken
    result = resume_run(run)
    assert result.status == "succeeded", result.message
    stages = [b.extravars["ccops_deploy_stage"] for b in machines.converge.batches]
    assert stages == ["backup", "converge"]  # the killed attempt's backup, then the resume's converge
    restored = machines.converge.batches[-1].extravars["ccops_rebuild_backups"]
    assert restored == dict.fromkeys(VMS, backup["backup"])
    assert machines.imaged == list(VMS)
