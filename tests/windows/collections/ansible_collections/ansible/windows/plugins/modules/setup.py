# Contract-test stand-in for ansible.windows.setup (fact names, their subsets and the
# gather_subset arithmetic from its setup.ps1): a fact outside the gathered subsets is
# not returned, as on a real seat.
from __future__ import annotations

from ansible_collections.ansible.windows.plugins.module_utils.fakewin import run

SPEC = {
    "gather_subset": {"type": "list", "elements": "str", "default": ["all"]},
    "gather_timeout": {"type": "int", "default": 10},
    "fact_path": {"type": "path"},
}

# setup.ps1's $groupedSubsets
GROUPS = {
    "min": {"date_time", "distribution", "dns", "env", "local", "platform", "powershell_version", "user"},
    "network": {"all_ipv4_addresses", "all_ipv6_addresses", "interfaces", "windows_domain", "winrm"},
    "hardware": {"bios", "memory", "processor", "uptime", "virtual"},
    "external": {"facter"},
}
ALL = set().union(*GROUPS.values())


def gathered(gather_subset: list[str]) -> set[str]:
    """setup.ps1: start from all, drop each !item (!all keeps min), add each named item."""
    exclude, explicit = set(), set()
    for item in gather_subset:
        if item.startswith("!"):
            name = item[1:]
            if name == "all":
                exclude |= ALL - GROUPS["min"]
            elif name in GROUPS:
                exclude |= GROUPS[name]
            elif name in ALL:
                exclude.add(name)
        elif item in GROUPS or item == "all":
            explicit |= ALL if item == "all" else GROUPS[item]
        elif item in ALL:
            explicit.add(item)
    return (ALL - exclude) | explicit


# the subset setup.ps1 sets each fact in (checked against it by tests/unit/test_windows_standins.py)
FACT_SUBSETS = {
    "ansible_os_name": "distribution",
    "ansible_distribution": "distribution",
    "ansible_distribution_version": "distribution",
    "ansible_os_installation_type": "distribution",
    "ansible_os_family": "distribution",
    "ansible_kernel": "platform",
    "ansible_system_vendor": "platform",
    "ansible_product_name": "bios",
    "ansible_processor_vcpus": "processor",
    "ansible_processor_count": "processor",
    "ansible_memtotal_mb": "memory",
    "ansible_virtualization_type": "virtual",
    "ansible_uptime_seconds": "uptime",
    "ansible_windows_domain_member": "windows_domain",
}


def handle(params, state):
    facts = {  # the modelled seat
        "ansible_os_name": "Microsoft Windows 11 Enterprise",
        "ansible_distribution": "Microsoft Windows 11 Enterprise",
        "ansible_distribution_version": "10.0.22631.0",
        "ansible_os_installation_type": "Client",
        "ansible_os_family": "Windows",
        "ansible_kernel": "10.0.22631.0",
        "ansible_system_vendor": "Dell Inc.",
        "ansible_product_name": "OptiPlex 7010",
        "ansible_processor_vcpus": 8,
        "ansible_processor_count": 1,
        "ansible_memtotal_mb": 16384,
        "ansible_virtualization_type": "",
        "ansible_uptime_seconds": 3600,
        "ansible_windows_domain_member": bool(state.get("domain")),
    }
    subsets = gathered(params["gather_subset"])
    found = {name: value for name, value in facts.items() if FACT_SUBSETS[name] in subsets}
    return "setup", {"changed": False, "ansible_facts": {**found, "gather_subset": params["gather_subset"]}}


if __name__ == "__main__":
    run("setup", SPEC, handle)
