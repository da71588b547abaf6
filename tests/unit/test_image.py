"""Golden images: definitions, the imaging initramfs archive, the point's boot service, phases, staging."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ccops.checksums import sha256_file
from ccops.image import definition
from ccops.image.imaging import TIMEOUTS, image_machine
from ccops.image.point import Machine, PointServer, seed_tar
from ccops.image.stage import send_to_point
from ccops.inventory.load import check_inventory, load_inventory
from ccops.lab.vms import LabVM, free_port
from tests.conftest import ROOT, site_text, write_inventory

GOOD = """\
image:
  version: "1.2"
  business_line: voice
  os: debian12
packages: [python3, sudo]
policies: {usb_storage: blocked}
settings: {timezone: Asia/Shanghai}
"""


def parse(tmp_path: Path, text: str, name: str = "voice-debian12") -> list[str]:
    path = tmp_path / f"{name}.yml"
    path.write_text(text)
    return [f"{Path(p.file).name}:{p.line}: {p.message}" for p in definition.parse(path)[1]]


def test_the_shipped_definitions_are_valid(monkeypatch):
    monkeypatch.setenv("CCOPS_PROJECT", str(ROOT))
    assert definition.validate_all() == []
    image = definition.load_image("voice-debian12")
    assert (image.suite, image.business_line, image.usb_storage) == ("bookworm", "voice", "blocked")


def test_a_good_definition_has_no_problems(tmp_path):
    assert parse(tmp_path, GOOD) == []


def test_bad_definitions_name_file_and_line(tmp_path):
    text = (
        GOOD.replace('version: "1.2"', "version: 1.2")
        .replace("sudo]", "sudo, 'rm -rf /']")
        .replace("usb_storage: blocked", "usb_storage: maybe")
        .replace("settings: {timezone: Asia/Shanghai}", "settings: {timezone: Asia/Shanghai, colour: red}")
    )
    found = parse(tmp_path, text)
    assert any(f.startswith("voice-debian12.yml:2: image.version: 1.2 is read by YAML 1.1 as a number") for f in found)
    assert "voice-debian12.yml:5: packages[2]: 'rm -rf /' is not a Debian package name" in found
    assert any(f.startswith("voice-debian12.yml:6: policies.usb_storage: unknown value 'maybe'") for f in found)
    assert any(f.startswith("voice-debian12.yml:7: settings.colour: unknown key") for f in found)


def test_a_windows_image_needs_its_wim(tmp_path):
    found = parse(tmp_path, GOOD.replace("os: debian12", "os: win11"), "voice-win11")
    assert any("wim: required for a Windows image" in f for f in found)


def test_a_missing_image_is_one_line(monkeypatch):
    monkeypatch.setenv("CCOPS_PROJECT", str(ROOT))
    with pytest.raises(Exception, match="no image 'nope'"):
        definition.load_image("nope")
    with pytest.raises(Exception, match="is not an image name"):
        definition.load_image("../etc/passwd")


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (127.0.0.1 only)
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


@pytest.fixture
def point(tmp_path):
    (tmp_path / "images" / "x" / "1").mkdir(parents=True)
    (tmp_path / "images" / "x" / "1" / "disk.raw.zst").write_bytes(b"image bytes")
    (tmp_path / "secret").write_text("not served")
    server = PointServer(tmp_path, free_port())
    server.expect(Machine("seat-01", "52-54-00-cc-01-01", "#!ipxe\necho hi\n", seed_tar({"hostname": b"seat-01\n"})))
    with server:
        yield server


def test_the_point_serves_only_expected_machines_and_staged_files(point):
    base = f"http://127.0.0.1:{point.port}"
    assert fetch(f"{base}/pxe/52-54-00-cc-01-01.ipxe") == (200, b"#!ipxe\necho hi\n")
    assert fetch(f"{base}/pxe/52-54-00-cc-01-99.ipxe")[0] == 404  # another machine keeps waiting
    assert fetch(f"{base}/images/x/1/disk.raw.zst") == (200, b"image bytes")
    assert fetch(f"{base}/images/../secret")[0] == 404
    assert fetch(f"{base}/images/x/1/../../../secret")[0] == 404
    status, seed = fetch(f"{base}/seed/52-54-00-cc-01-01.tar")
    assert status == 200 and b"seat-01" in seed
    assert [what for _, what in point.machines["52-54-00-cc-01-01"].events] == ["pxe", "seed"]


def test_a_checksum_failure_ends_imaging_at_the_checksum_phase(point, monkeypatch):
    base = f"http://127.0.0.1:{point.port}"
    monkeypatch.setitem(TIMEOUTS, "pxe", 20)

    def machine() -> None:  # what the imager does with a damaged image
        for what in ("pxe.ipxe", "report/imager-started", "report/checksum-failed"):
            kind, _, event = what.partition("/")
            path = "/pxe/52-54-00-cc-01-01.ipxe" if kind == "pxe.ipxe" else f"/report/52-54-00-cc-01-01/{event}"
            fetch(base + path)

    threading.Thread(target=machine).start()
    result = image_machine(point, "seat-01", "52-54-00-cc-01-01", "127.0.0.1", free_port())
    assert (result.ok, result.phase) == (False, "checksum")
    assert "powered off with its disk untouched" in result.message
    assert result.report()["outcome"] == "failed"


def test_no_network_boot_ends_at_the_pxe_phase(point, monkeypatch):
    monkeypatch.setitem(TIMEOUTS, "pxe", 0.5)
    result = image_machine(point, "seat-01", "52-54-00-cc-01-01", "127.0.0.1", free_port())
    assert (result.ok, result.phase) == (False, "pxe")
    assert "no network boot request" in result.message


def test_staging_copies_verifies_and_skips_what_is_intact(tmp_path):
    source, target = tmp_path / "build", tmp_path / "point"
    source.mkdir()
    (source / "a").write_bytes(b"aaa")
    artefacts = {"a": {"sha256": sha256_file(source / "a"), "size": 3}}
    assert send_to_point(source, target, artefacts) == ["a"]
    assert send_to_point(source, target, artefacts) == []  # resumable: nothing sent twice
    (target / "a").write_bytes(b"aab")
    assert send_to_point(source, target, artefacts) == ["a"]  # a damaged copy is replaced
    (source / "a").write_bytes(b"zzz")
    with pytest.raises(Exception, match="does not match its build manifest"):
        send_to_point(source, target, artefacts)


def test_a_vm_site_is_valid_and_deploy_moves_one_host_to_active(tmp_path, monkeypatch):
    from ccops.inventory.writer import set_host_fields
    from ccops.lab.vm_inventory import write_vm_site

    monkeypatch.setenv("CCOPS_HOME", str(tmp_path / "home"))
    machines = [LabVM("lab-vm-01", "52:54:00:cc:01:01", 40001), LabVM("lab-vm-02", "52:54:00:cc:01:02", 40002)]
    path = write_vm_site(tmp_path / "inv", machines, tmp_path / "lab", {"lab-vm-01", "lab-vm-02"})
    inventory = load_inventory(tmp_path / "inv")
    assert [(h.lifecycle, h.mac, h.port) for h in inventory.hosts.values()] == [
        ("planned", "52:54:00:cc:01:01", 40001),
        ("planned", "52:54:00:cc:01:02", 40002),
    ]
    before = path.read_text().splitlines()
    set_host_fields(inventory, "lab-vm-02", {"lifecycle": "active"})
    after = path.read_text().splitlines()
    assert [line for line in after if line not in before] == ["    lifecycle: active"]
    assert load_inventory(tmp_path / "inv").hosts["lab-vm-02"].lifecycle == "active"
    # writing the site again (lab vm up) keeps the deployed machine active
    write_vm_site(tmp_path / "inv", machines, tmp_path / "lab", set())
    assert load_inventory(tmp_path / "inv").hosts["lab-vm-02"].lifecycle == "active"


def test_a_bad_mac_is_a_file_line_problem(tmp_path):
    text = site_text() + "hosts:\n  tst-t01: {mac: '52:54:00:zz:01:01'}\n"
    _, found = check_inventory(write_inventory(tmp_path / "inv", {"a.yml": text}))
    assert [f"{Path(p.file).name}:{p.line}: {p.message}" for p in found] == [
        f"a.yml:{len(text.splitlines())}: hosts.tst-t01.mac: '52:54:00:zz:01:01' is not a MAC address like "
        "52:54:00:0a:0b:0c"
    ]


def test_an_unchanged_definition_is_not_built_again(tmp_path, monkeypatch):
    import shutil

    from ccops.image.build import MANIFEST, build, build_folder, cached_build

    shutil.copytree(ROOT / "images" / "golden", tmp_path / "project" / "images" / "golden")
    monkeypatch.setenv("CCOPS_PROJECT", str(tmp_path / "project"))
    monkeypatch.setenv("CCOPS_IMAGE_CACHE", str(tmp_path / "cache"))
    image = definition.load_image("voice-debian12")
    assert cached_build(image) is None
    folder = build_folder(image)
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text(json.dumps({"name": image.name, "version": image.version}))
    said: list[str] = []
    assert build(image, say=said.append).cached  # nothing runs: the build for these inputs exists
    assert said == [f"voice-debian12 2026.11.2: unchanged, already built in {folder}"]
    path = tmp_path / "project" / "images" / "golden" / "voice-debian12.yml"
    path.write_text(path.read_text().replace("procps, ", ""))
    assert cached_build(definition.load_image("voice-debian12")) is None  # a changed definition is built anew
