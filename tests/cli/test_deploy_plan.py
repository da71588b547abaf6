"""`ccops plan deploy --image NAME --save FILE`, then `ccops deploy --plan FILE`: the image build reviewed is
the build that is written, on the machines reviewed, or the run is refused naming what changed.

The deploys stop at the confirmation (no terminal, no --yes): what is checked is that the saved plan is
accepted or refused before anything starts; imaging itself is the lab's (tests/lab/test_lab_image.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ccops.image.build import DISK, MANIFEST, build_folder
from ccops.image.definition import load_image
from ccops.lab.vm_inventory import write_vm_site
from ccops.lab.vms import LabVM
from tests.cli.test_json_schemas import validate
from tests.conftest import ROOT, run_scripted

IMAGE = "voice-debian12"
VMS = ("lab-vm-01", "lab-vm-02")
EXIT_REFUSED = 5
EXIT_USAGE = 64


def _write_build(disk_sha256: str) -> Path:
    """A build of the image in the cache as `ccops image build` leaves it: its manifest names the disk."""
    image = load_image(IMAGE)
    folder = build_folder(image)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "name": image.name,
        "version": image.version,
        "artefacts": {DISK: {"sha256": disk_sha256, "size": 1}},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return folder


@pytest.fixture
def deploy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A project copy whose golden image can be edited, a built image in a cache of its own, two planned machines."""
    project = tmp_path / "project"
    project.mkdir()
    for shared in ("ansible.cfg", "playbooks", "roles"):
        (project / shared).symlink_to(ROOT / shared)
    shutil.copytree(ROOT / "images", project / "images")
    monkeypatch.setenv("CCOPS_PROJECT", str(project))
    monkeypatch.setenv("CCOPS_IMAGE_CACHE", str(tmp_path / "cache"))
    machines = [LabVM(VMS[0], "52:54:00:cc:01:01", 40001), LabVM(VMS[1], "52:54:00:cc:01:02", 40002)]
    inv = tmp_path / "inv"
    site_file = write_vm_site(inv, machines, tmp_path / "lab", set(VMS))
    _write_build("a" * 64)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_scripted("tests.cli.scripted_cli", tmp_path / "home", tmp_path / "hosts.json", {}, *args)

    run.inv, run.site_file, run.plan = inv, site_file, tmp_path / "approved.json"  # type: ignore[attr-defined]
    run.definition = project / "images" / "golden" / f"{IMAGE}.yml"  # type: ignore[attr-defined]
    return run


def _save(deploy, *extra: str) -> dict:
    result = deploy("plan", "deploy", "--image", IMAGE, "-i", str(deploy.inv), "--save", str(deploy.plan), *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(deploy.plan.read_text())


def _apply(deploy, *extra: str) -> subprocess.CompletedProcess[str]:
    return deploy("deploy", "--plan", str(deploy.plan), "--change-id", "CHG-9", *extra)


def _accepted(result: subprocess.CompletedProcess[str]) -> bool:
    """The saved plan passed every check: only the missing confirmation stopped the run."""
    return result.returncode == EXIT_REFUSED and "without confirmation" in result.stderr


def test_the_saved_plan_pins_the_image_definition_and_build_and_runs_as_saved(deploy):
    saved = _save(deploy)
    version = load_image(IMAGE).version
    assert saved["verb"] == "deploy" and saved["version"] == 2
    assert saved["options"] == {
        "ccops_image_name": IMAGE,
        "ccops_image_version": version,
        "ccops_deploy_mode": "image",
    }
    assert saved["pins"][f"image build {IMAGE} {version} disk {DISK}"] == "a" * 64
    assert set(saved["pins"]) == {
        f"image definition images/golden/{IMAGE}.yml",
        f"image build {IMAGE} {version} manifest",
        f"image build {IMAGE} {version} disk {DISK}",
    }
    assert saved["hosts"] == list(VMS)
    ran = _apply(deploy)
    assert _accepted(ran), ran.stderr
    assert f"image with {IMAGE} {version} 2 host(s)" in ran.stderr


def test_an_image_built_again_since_the_review_refuses_the_saved_plan(deploy):
    _save(deploy)
    _write_build("b" * 64)  # ccops image build --rebuild: same definition, another disk
    ran = _apply(deploy, "--yes")
    assert ran.returncode == EXIT_REFUSED, ran.stdout + ran.stderr
    version = load_image(IMAGE).version
    assert f"the plan no longer matches: image build {IMAGE} {version} manifest changed" in ran.stderr
    assert "plan again" in ran.stderr


def test_an_edited_image_definition_refuses_the_saved_plan(deploy):
    _save(deploy)
    text = deploy.definition.read_text()
    deploy.definition.write_text(text.replace("python3-apt, sudo", "python3-apt, sudo, curl"))
    _write_build("a" * 64)  # and built again: a build of the new definition, with the same disk even
    ran = _apply(deploy, "--yes")
    assert ran.returncode == EXIT_REFUSED, ran.stdout + ran.stderr
    assert f"image definition images/golden/{IMAGE}.yml changed" in ran.stderr


def _make_active(deploy, name: str) -> None:
    text = deploy.site_file.read_text()
    port = {VMS[0]: 40001, VMS[1]: 40002}[name]
    deploy.site_file.write_text(text.replace(f"    port: {port}\n", f"    port: {port}\n    lifecycle: active\n"))


def test_a_machine_no_longer_planned_refuses_the_saved_plan(deploy):
    _save(deploy)
    _make_active(deploy, VMS[1])  # deployed by hand meanwhile: the plan would now image one machine, not two
    ran = _apply(deploy, "--yes")
    assert ran.returncode == EXIT_REFUSED, ran.stdout + ran.stderr
    assert f"the plan no longer matches: inventory file sites/{deploy.site_file.name} changed" in ran.stderr
    assert "(and 1 more)" in ran.stderr  # the machine no longer selected


def test_the_mode_is_part_of_the_plan_and_the_command_line_cannot_change_it(deploy):
    _make_active(deploy, VMS[1])
    saved = _save(deploy, "--rebuild")
    assert saved["options"]["ccops_deploy_mode"] == "rebuild" and saved["hosts"] == [VMS[1]]  # active ones only
    ran = _apply(deploy)
    assert _accepted(ran) and f"rebuild with {IMAGE}" in ran.stderr and "1 host(s)" in ran.stderr, ran.stderr
    for typed in (("--image", IMAGE), ("--converge-only",), ("--limit", VMS[0])):
        ran = _apply(deploy, *typed)
        assert ran.returncode == EXIT_USAGE and f"{typed[0]} cannot be given with --plan" in ran.stderr, typed


def test_a_deploy_plan_states_the_image_its_version_and_build_in_every_format(deploy):
    version = load_image(IMAGE).version
    text = deploy("plan", "deploy", "--image", IMAGE, "-i", str(deploy.inv))
    assert text.returncode == 0, text.stderr
    assert f"image {IMAGE} {version}: written on planned machines" in text.stdout
    assert f"image build {IMAGE} {version} disk {DISK}: sha256 {'a' * 64}" in text.stdout
    assert text.stdout.rstrip().endswith("1 batch; 0 not touched")  # the summary line stays last
    markdown = deploy("plan", "deploy", "--image", IMAGE, "-i", str(deploy.inv), "-o", "markdown").stdout
    assert f"| image build {IMAGE} {version} manifest | `" in markdown
    assert markdown.rstrip().endswith("0 not touched**")
    document = validate("plan", deploy("plan", "deploy", "--image", IMAGE, "-i", str(deploy.inv), "-o", "json").stdout)
    assert {"pin": f"image build {IMAGE} {version} disk {DISK}", "sha256": "a" * 64} in document["data"]["pins"]
    assert document["data"]["image"] == {"name": IMAGE, "version": version, "mode": "image"}


def test_deploy_flags_belong_to_deploy_and_a_deploy_plan_names_its_image(deploy):
    other = deploy("plan", "patch", "--image", IMAGE, "-i", str(deploy.inv))
    assert other.returncode == EXIT_USAGE and "plan patch takes no --image" in other.stderr
    none = deploy("plan", "deploy", "-i", str(deploy.inv))
    assert none.returncode == EXIT_USAGE and "plan deploy needs --image NAME" in none.stderr
    shutil.rmtree(build_folder(load_image(IMAGE)))
    unbuilt = deploy("plan", "deploy", "--image", IMAGE, "-i", str(deploy.inv), "--save", str(deploy.plan))
    assert unbuilt.returncode != 0 and "is not built" in unbuilt.stderr and not deploy.plan.exists()


def test_a_build_gone_from_the_cache_refuses_the_saved_plan_naming_it(deploy):
    _save(deploy)
    shutil.rmtree(build_folder(load_image(IMAGE)))
    ran = _apply(deploy, "--yes")
    assert ran.returncode == EXIT_REFUSED, ran.stdout + ran.stderr
    assert f"no longer matches: image build {IMAGE} {load_image(IMAGE).version} " in ran.stderr
    assert "removed (and 1 more)" in ran.stderr  # the manifest and the disk


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("ccops_deploy_mode", "wipe-everything", "ccops_deploy_mode is not one of image, converge, rebuild"),
        ("ccops_image_version", "1999.1", "ccops_image_version is not the version"),
        ("ansible_shell_executable", "/bin/evil", "is not a setting of deploy"),
    ],
)
def test_a_deploy_plan_file_setting_what_plan_deploy_never_writes_is_one_line(deploy, setting, value, said):
    saved = _save(deploy)
    saved["options"][setting] = value
    deploy.plan.write_text(json.dumps(saved))
    ran = _apply(deploy, "--yes")
    assert ran.returncode == 1 and "not a ccops plan" in ran.stderr and said in ran.stderr, ran.stderr
    assert len(ran.stderr.strip().splitlines()) == 1


def test_a_saved_deploy_plan_of_an_offline_inventory_is_refused_before_the_prompt(deploy):
    config = deploy.inv / "ccops.yml"
    config.write_text(config.read_text() + "offline: true\n")
    _save(deploy)
    ran = _apply(deploy)
    assert ran.returncode == EXIT_REFUSED and "marked offline" in ran.stderr, ran.stderr
    assert "without confirmation" not in ran.stderr
