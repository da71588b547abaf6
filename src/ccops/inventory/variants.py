"""The OS variants ccops knows and the day names a schedule is written in: the one place.

Everything else reads them from here: the inventory model and readers, the image and lab
code, and Ansible through ``playbooks/vars/ccops_os.yml``, a file generated from this module
(``python -m ccops.inventory.variants > playbooks/vars/ccops_os.yml``; a test checks the
two agree, and that each role's meta names the platforms these variants are).
"""

from __future__ import annotations

import json

# variant: OS family; the family picks the task files inside each role
OS_VARIANTS = {
    "win10": "windows",
    "win11": "windows",
    "winserver2019": "windows",
    "winserver2022": "windows",
    "debian11": "debian",
    "debian12": "debian",
    "debian13": "debian",
}
OS_FAMILIES = tuple(sorted(set(OS_VARIANTS.values())))
# the Debian release each Debian variant is (its suite name in apt sources)
DEBIAN_SUITES = {"debian11": "bullseye", "debian12": "bookworm", "debian13": "trixie"}
DEBIAN_VARIANTS = tuple(DEBIAN_SUITES)
# Windows Server releases (Ansible Galaxy's platform versions); desktops have none there
WINDOWS_SERVER_RELEASES = {"winserver2019": "2019", "winserver2022": "2022"}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def ansible_vars() -> str:
    """The text of playbooks/vars/ccops_os.yml (each name a JSON string, which YAML reads as it is)."""
    lines = [
        "---",
        "# Generated from src/ccops/inventory/variants.py: do not edit, regenerate with",
        "#   python -m ccops.inventory.variants > playbooks/vars/ccops_os.yml",
        "# OS variant: OS family (the family picks the task files inside each role)",
        "ccops_os_variants:",
        *(f"  {json.dumps(variant)}: {json.dumps(family)}" for variant, family in OS_VARIANTS.items()),
        "ccops_os_families:",
        *(f"  - {json.dumps(family)}" for family in OS_FAMILIES),
        "# the day names a maintenance window is written in",
        "ccops_days:",
        *(f"  - {json.dumps(day)}" for day in DAYS),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(ansible_vars(), end="")
