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


def handle(params, state):
    facts = [  # (subset in setup.ps1, fact, value on the modelled seat)
        ("distribution", "ansible_os_name", "Microsoft Windows 11 Enterprise"),
        ("distribution", "ansible_distribution", "Microsoft Windows 11 Enterprise"),
        ("distribution", "ansible_distribution_version", "10.0.22631.0"),
        ("platform", "ansible_kernel", "10.0.22631.0"),
        ("distribution", "ansible_os_installation_type", "Client"),
        ("platform", "ansible_system_vendor", "Dell Inc."),
        ("bios", "ansible_product_name", "OptiPlex 7010"),
        ("processor", "ansible_processor_vcpus", 8),
        ("processor", "ansible_processor_count", 1),
        ("memory", "ansible_memtotal_mb", 16384),
        ("virtual", "ansible_virtualization_type", ""),
        ("uptime", "ansible_uptime_seconds", 3600),
        ("distribution", "ansible_os_family", "Windows"),
        ("windows_domain", "ansible_windows_domain_member", bool(state.get("domain"))),
    ]
    subsets = gathered(params["gather_subset"])
    found = {name: value for subset, name, value in facts if subset in subsets}
    return "setup", {"changed": False, "ansible_facts": {**found, "gather_subset": params["gather_subset"]}}


if __name__ == "__main__":
    run("setup", SPEC, handle)
