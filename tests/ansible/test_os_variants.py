"""The OS variants and day names are written once (ccops.inventory.variants): Ansible reads the
generated playbooks/vars/ccops_os.yml, role metadata names the same releases, and no role or
playbook spells a variant list of its own."""

import re

import yaml

from ccops.inventory.variants import DAYS, DEBIAN_SUITES, OS_VARIANTS, WINDOWS_SERVER_RELEASES, ansible_vars
from tests.conftest import ROOT

GENERATED = ROOT / "playbooks" / "vars" / "ccops_os.yml"


def test_the_ansible_vars_file_is_the_generated_one():
    assert GENERATED.read_text() == ansible_vars(), (
        "playbooks/vars/ccops_os.yml is stale: python -m ccops.inventory.variants > playbooks/vars/ccops_os.yml"
    )
    loaded = yaml.safe_load(GENERATED.read_text())
    assert loaded["ccops_os_variants"] == OS_VARIANTS
    assert loaded["ccops_days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_every_os_variant_has_a_family_with_task_files():
    for family in set(OS_VARIANTS.values()):
        assert list((ROOT / "roles").glob(f"*/tasks/*_{family}.yml")), family


def test_role_metadata_names_the_releases_of_the_variants():
    """A role that runs on an OS runs on every variant of it (a role may leave an OS out)."""
    releases = {"Debian": sorted(DEBIAN_SUITES.values()), "Windows": sorted(WINDOWS_SERVER_RELEASES.values())}
    for meta in sorted((ROOT / "roles").glob("*/meta/main.yml")):
        for platform in yaml.safe_load(meta.read_text())["galaxy_info"]["platforms"]:
            assert sorted(platform["versions"]) == releases[platform["name"]], meta.relative_to(ROOT)


def test_no_role_or_playbook_spells_a_variant_list_of_its_own():
    variant = re.compile("|".join(re.escape(v) for v in OS_VARIANTS))
    spelled = [
        str(path.relative_to(ROOT))
        for folder in ("roles", "playbooks")
        for path in (ROOT / folder).rglob("*.yml")
        if path != GENERATED and variant.search(path.read_text())
    ]
    assert spelled == []


def test_no_python_module_spells_the_variant_list_or_the_day_names():
    """A line quoting two variants or three day names is a list of its own; lab data and the jump
    host's supported subset are choices among the variants, not the list."""
    choices = ("PLANNED_WINDOWS = ", "NODE_OS = ")
    spelled = []
    for path in sorted((ROOT / "src" / "ccops").rglob("*.py")):
        if path.name == "variants.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            variants = {v for v in OS_VARIANTS if f'"{v}"' in line}
            days = {d for d in DAYS if f'"{d}"' in line}
            if (len(variants) >= 2 or len(days) >= 3) and not line.lstrip().startswith(choices):
                spelled.append(f"{path.relative_to(ROOT)}:{number}")
    assert spelled == []
