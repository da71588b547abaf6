"""The software catalogue: FILE:LINE errors for malformed entries, hostile values refused, desired state per host."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ccops.inventory.load import load_inventory
from ccops.software.catalogue import check_catalogue
from ccops.software.desired import change, desired_items, host_changes, requirements_for
from tests.conftest import EXAMPLE

SHA = "a" * 64
GOOD = f"""\
artefacts: cache
applications:
  softphone:
    health: {{service: softphone, port: 5070}}
    config_paths: [/etc/softphone]
    versions:
      "1.0":
        debian12: {{type: deb, package: softphone, version: "1.0", file: softphone_1.0_all.deb, sha256: {SHA}}}
        win11: {{type: msi, file: softphone-1.0.msi, sha256: {SHA},
                 product_code: "{{12345678-1234-1234-1234-123456789ABC}}", arguments: /qn}}
      "2.0":
        debian12: {{type: deb, package: softphone, version: "2.0", file: softphone_2.0_all.deb, sha256: {SHA}}}
        win11: {{type: exe, file: softphone-2.0.exe, sha256: {SHA}, arguments: /S,
                 detect: {{path: 'C:\\Program Files\\Softphone\\softphone.exe', version: "2.0"}}}}
requirements:
  - {{app: softphone, version: "2.0", os: [debian12, win11], role: [agent_desktop]}}
  - {{app: softphone, state: absent, role: [crm_server]}}
"""


def write(tmp_path: Path, text: str, name: str = "apps.yml") -> Path:
    folder = tmp_path / "catalogue"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text))
    return tmp_path


def problems(tmp_path: Path, text: str) -> list[str]:
    return [str(p) for p in check_catalogue(write(tmp_path, text))[1]]


def test_a_good_catalogue_loads(tmp_path):
    catalogue, found = check_catalogue(write(tmp_path, GOOD))
    assert found == []
    app = catalogue.applications["softphone"]
    assert set(app.versions) == {"1.0", "2.0"}
    assert app.versions["1.0"]["win11"].product_code.startswith("{1234")
    assert app.versions["2.0"]["win11"].detect == {
        "path": "C:\\Program Files\\Softphone\\softphone.exe",
        "version": "2.0",
    }
    assert catalogue.artefacts_dir == tmp_path / "cache"
    assert [r.version for r in catalogue.requirements] == ["2.0", None]


def test_no_catalogue_is_an_empty_one(tmp_path):
    catalogue, found = check_catalogue(tmp_path)
    assert found == [] and catalogue.applications == {} and catalogue.requirements == []


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            '        debian12: {type: deb, package: softphone, version: "1.0"',
            '        debian10: {type: deb, package: softphone, version: "1.0"',
            8,
            "unknown OS variant 'debian10'",
        ),
        (
            "                 detect: {path: 'C:\\Program Files\\Softphone\\softphone.exe', version: \"2.0\"}}",
            "}",
            13,
            "an exe needs a detection rule",
        ),
        (
            '  - {app: softphone, version: "2.0", os:',
            '  - {app: softphone, version: "3.0", os:',
            16,
            "version '3.0' of softphone does not exist; known: 1.0, 2.0",
        ),
        (
            "  - {app: softphone, state: absent, role: [crm_server]}",
            '  - {app: softphone, version: "1.0", os: [debian12]}',
            17,
            "softphone is required as 1.0 here and as 2.0 at",
        ),
        (
            "  - {app: softphone, state: absent, role: [crm_server]}",
            '  - {app: phone, version: "1.0"}',
            17,
            "no application 'phone' in the catalogue",
        ),
        (
            "sha256: " + SHA + "}\n        win11: {type: msi",
            "sha256: abc}\n        win11: {type: msi",
            8,
            "'abc' is not a valid sha256",
        ),
        (
            'product_code: "{12345678-1234-1234-1234-123456789ABC}"',
            'product_code: "12345678"',
            10,
            "is not a valid product code",
        ),
        (
            'type: deb, package: softphone, version: "2.0"',
            'type: msi, package: softphone, version: "2.0"',
            12,
            "a msi artefact cannot install on a debian host",
        ),
        ("os: [debian12, win11]", "os: [debian12, win10]", 16, "softphone 2.0 has no artefact for win10"),
        ("os: [debian12, win11]", "os: [debian12, dos6]", 16, "unknown OS variant 'dos6'"),
        ("config_paths: [/etc/softphone]", "config_paths: [etc/softphone]", 5, "is not an absolute path"),
        (
            "health: {service: softphone, port: 5070}",
            "health: {service: softphone, port: 70000}",
            4,
            "a port is 1-65535",
        ),
        (
            "health: {service: softphone, port: 5070}",
            "health: {service: 'soft phone;reboot', port: 1}",
            4,
            "not a service name",
        ),
        ("file: softphone_1.0_all.deb", "file: ../../etc/shadow", 8, "is not a valid file"),
        (
            'package: softphone, version: "1.0"',
            "package: '-oAPT::Evil=1', version: \"1.0\"",
            8,
            "is not a valid package",
        ),
        ("arguments: /qn", 'arguments: \'{{ lookup("pipe", "id") }}\'', 10, "would be templated"),
        ("artefacts: cache", "artefacts: ../../../../../../etc", 1, "no '~' or '..'"),
        ("artefacts: cache", "artefacts: ~root/.ssh", 1, "no '~' or '..'"),
        ("config_paths: [/etc/softphone]", "config_paths: [/]", 5, "is not an absolute path below the root"),
        ("config_paths: [/etc/softphone]", "config_paths: [/etc/../root]", 5, "is not an absolute path below"),
        (
            "config_paths: [/etc/softphone]",
            "config_paths: ['C:\\ProgramData\\..\\..\\Windows']",
            5,
            "is not an absolute path below the root",
        ),
        ("config_paths: [/etc/softphone]", "config_paths: ['C:\\@evil.tar']", 5, "with plain parts"),
        ("config_paths: [/etc/softphone]", "config_paths: ['/etc/-rf']", 5, "with plain parts"),
        ("health: {service: softphone, port: 5070}", "health: {service: '-H', port: 1}", 4, "not a service name"),
        (
            "  - {app: softphone, state: absent, role: [crm_server]}",
            '  - {app: softphone, state: absent, version: "1.0"}',
            17,
            "an absent application has no version",
        ),
    ],
)
def test_malformed_entries_name_file_and_line(tmp_path, old, new, line, message):
    assert old in GOOD, old
    found = problems(tmp_path, GOOD.replace(old, new, 1))
    assert any(f"catalogue/apps.yml:{line}: " in p and message in p for p in found), found


def test_an_application_declared_in_two_files_is_refused(tmp_path):
    write(tmp_path, GOOD)
    found = problems(tmp_path, GOOD.replace("requirements:", "requirements_x:").split("requirements_x:")[0])
    assert found == [] or any("also declared" in p for p in found)
    write(tmp_path, "applications:\n  softphone: {versions: {}}\n", name="zz.yml")
    found = [str(p) for p in check_catalogue(tmp_path)[1]]
    assert any("zz.yml:2: application softphone is also declared at" in p for p in found), found


def test_hostile_documents_are_refused_like_site_files(tmp_path):
    found = problems(tmp_path, "applications: !!python/object:os.system {}\n")
    assert found and all("catalogue/apps.yml:1:" in p for p in found), found
    found = problems(tmp_path, "a: &a [*a]\n")
    assert found, found


def test_a_key_with_a_newline_or_an_escape_stays_on_its_one_line(tmp_path):
    fake = "inventory/sites/njjy.yml:1: all other problems fixed"
    text = GOOD.replace('"1.0":\n', f'"1.0\\n{fake}\\e]0;title\\a":\n', 1)
    found = problems(tmp_path, text)
    assert found and all(p.isprintable() for p in found), found
    assert any("catalogue/apps.yml:7: " in p and "\\n" + fake in p for p in found), found


def test_desired_items_follow_the_rules_per_group(tmp_path):
    inventory = load_inventory(EXAMPLE)
    catalogue, _ = check_catalogue(write(tmp_path, GOOD.replace("os: [debian12, win11], ", "")))
    agents = [h for h in inventory.hosts.values() if h.role == "agent_desktop" and h.os in ("debian12", "win11")]
    crm = next(h for h in inventory.hosts.values() if h.role == "crm_server")
    assert [r.version for r in requirements_for(catalogue, agents[0])] == ["2.0"]
    assert [r.version for r in requirements_for(catalogue, crm)] == [None]
    items = desired_items(catalogue, [*agents, crm])
    first = items[f"{agents[0].site}/{agents[0].group}"][0]
    assert first["state"] == "present" and first["version"] == "2.0" and first["sha256"] == SHA
    # absent on a CRM server's OS, for which the application has no artefact: nothing to find or remove
    assert crm.os not in catalogue.applications["softphone"].versions["2.0"]
    assert items[f"{crm.site}/{crm.group}"] == []
    removal = desired_items(catalogue, [*agents, crm], remove="softphone")
    assert removal[f"{crm.site}/{crm.group}"] == []
    for agent in agents:
        (absent,) = removal[f"{agent.site}/{agent.group}"]
        assert absent["state"] == "absent" and absent["kind"] in ("deb", "msi", "exe"), absent


def test_changes_from_asset_records():
    entry = {
        "app": "softphone",
        "state": "present",
        "version": "2.0",
        "package_version": "2.0",
        "kind": "deb",
        "package": "softphone",
    }
    assert change(entry, None)["action"] == "install"
    assert change(entry, "1.0")["action"] == "upgrade"
    assert change(entry, "2.1")["action"] == "downgrade"
    assert change(entry, "2.0") is None
    record = {"record": {"packages": {"items": {"softphone": "1.0"}}}}
    assert host_changes([entry], record) == [{"app": "softphone", "action": "upgrade", "from": "1.0", "to": "2.0"}]
    assert host_changes([entry], None)[0]["action"] == "unknown"
    assert change({**entry, "state": "absent"}, "2.0")["action"] == "remove"


EXE_DETECT = "                 detect: {path: 'C:\\Program Files\\Softphone\\softphone.exe', version: \"2.0\"}}"


def test_an_exe_declares_its_uninstall_command_as_an_argument_list(tmp_path):
    text = GOOD.replace(
        EXE_DETECT,
        EXE_DETECT[:-1] + ",\n                 uninstall: ['C:\\Program Files\\Softphone\\uninstall.exe', /S]}",
    )
    catalogue, found = check_catalogue(write(tmp_path, text))
    assert found == []
    assert catalogue.applications["softphone"].versions["2.0"]["win11"].uninstall == (
        "C:\\Program Files\\Softphone\\uninstall.exe",
        "/S",
    )
    assert catalogue.applications["softphone"].versions["1.0"]["win11"].uninstall == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("'C:\\Program Files\\Softphone\\uninstall.exe /S'", "expected a list, got text"),
        ("[]", "a list of 1 to 32 strings"),
        ("[uninstall.exe, /S]", "the absolute path of a .exe"),
        ("['C:\\Tools\\x.bat', /S]", "the absolute path of a .exe"),
        ("['C:\\Tools\\x.exe', 7]", "a list of 1 to 32 strings"),
        ("['C:\\Tools\\x.exe', \"\\x1b]52;c;\"]", "printable text"),
    ],
)
def test_a_bad_uninstall_command_is_one_line_naming_file_and_line(tmp_path, value, message):
    text = GOOD.replace(EXE_DETECT, EXE_DETECT[:-1] + f",\n                 uninstall: {value}}}")
    found = problems(tmp_path, text)
    # the artefact is refused (so the rule naming its version has no artefact either)
    assert "/catalogue/apps.yml:15: applications.softphone.versions.2.0.win11.uninstall" in found[0], found
    assert message in found[0], found
