# Contract-test stand-in for ansible.windows.setup (fact names from its setup.ps1).
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import run

SPEC = {
    "gather_subset": {"type": "list", "elements": "str", "default": ["all"]},
    "gather_timeout": {"type": "int", "default": 10},
    "fact_path": {"type": "path"},
}


def handle(params, state):
    facts = {
        "ansible_os_name": "Microsoft Windows 11 Enterprise",
        "ansible_distribution": "Microsoft Windows 11 Enterprise",
        "ansible_distribution_version": "10.0.22631.0",
        "ansible_kernel": "10.0.22631.0",
        "ansible_os_installation_type": "Client",
        "ansible_system_vendor": "Dell Inc.",
        "ansible_product_name": "OptiPlex 7010",
        "ansible_processor_vcpus": 8,
        "ansible_processor_count": 1,
        "ansible_memtotal_mb": 16384,
        "ansible_virtualization_type": "",
        "ansible_uptime_seconds": 3600,
        "ansible_os_family": "Windows",
    }
    return "setup", {"changed": False, "ansible_facts": facts}


if __name__ == "__main__":
    run("setup", SPEC, handle)
