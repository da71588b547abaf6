"""Every kind of bad inventory gets a FILE:LINE: message, and nothing else."""

import json
from pathlib import Path

import pytest

from ccops.inventory.load import check_inventory
from tests.conftest import EXAMPLE, site_text, write_inventory


def problems(tmp_path: Path, sites: dict[str, str]) -> list[str]:
    _, found = check_inventory(write_inventory(tmp_path / "inv", sites))
    return [f"{Path(p.file).name}:{p.line}: {p.message}" for p in found]


def test_a_good_inventory_has_no_problems(tmp_path):
    assert problems(tmp_path, {"a.yml": site_text("aaa"), "b.yml": site_text("bbb", address="10.9.1.1")}) == []


def test_bad_yaml_names_file_and_line(tmp_path):
    text = site_text().replace("  city: testcity", "  city: [testcity")
    found = problems(tmp_path, {"a.yml": text})
    assert len(found) == 1 and found[0].startswith("a.yml:") and "bad YAML" in found[0]


def test_wrong_types(tmp_path):
    text = site_text().replace("batch_size: 2", "batch_size: two").replace("hosts: tst-t[01:04]", "hosts: 5")
    found = problems(tmp_path, {"a.yml": text})
    assert "a.yml:6: site.rollout.batch_size: expected a number, got text" in found
    assert "a.yml:15: groups[0].hosts: a host name, a range or a list of them" in found


def test_unknown_os_variant_and_role(tmp_path):
    text = site_text().replace("os: debian12", "os: debian10").replace("role: agent_desktop", "role: agent")
    found = problems(tmp_path, {"a.yml": text})
    assert any(f.startswith("a.yml:12: groups[0].os: unknown value 'debian10'") for f in found)
    assert any(f.startswith("a.yml:11: groups[0].role: unknown value 'agent'") for f in found)


def test_duplicate_host_names_across_sites_report_the_overlap_once(tmp_path):
    second = site_text("bbb", address="10.9.1.1").replace("hosts: bbb-t[01:04]", "hosts: tst-t[03:06]")
    found = problems(tmp_path, {"a.yml": site_text(), "b.yml": second})
    assert len(found) == 1
    assert found[0].startswith("b.yml:15: 2 host names overlap with the range at ")
    assert found[0].endswith("a.yml:15: tst-t[03:04]")


def test_overlapping_ranges_inside_one_site(tmp_path):
    text = (
        site_text()
        + """\
  - name: more
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: tst-t[04:08]
"""
    )
    found = problems(tmp_path, {"a.yml": text})
    assert found == ["a.yml:22: groups[1].hosts: host tst-t04 is already in group agents of this site"]


def test_duplicate_addresses_across_sites(tmp_path):
    found = problems(tmp_path, {"a.yml": site_text(), "b.yml": site_text("bbb", address="10.9.0.3")})
    assert len(found) == 1
    assert found[0].startswith("b.yml:15: duplicate address: bbb-t01 (10.9.0.3, also tst-t03)")


@pytest.mark.parametrize(("value", "kind"), [("NO", "a boolean"), ("yes", "a boolean"), ("012", "a number")])
def test_site_code_that_yaml_turns_into_something_else(tmp_path, value, kind):
    text = site_text().replace("code: tst", f"code: {value}")
    found = problems(tmp_path, {"a.yml": text})
    assert found[0].startswith(f"a.yml:2: site.code: {value} is read by YAML 1.1 as {kind}")
    assert f'write it in quotes: "{value}"' in found[0]


def test_asset_tag_that_yaml_reads_as_octal(tmp_path):
    text = site_text() + "hosts:\n  tst-t01: {asset_tag: 012}\n"
    found = problems(tmp_path, {"a.yml": text})
    assert found == [
        'a.yml:18: hosts.tst-t01.asset_tag: 012 is read by YAML 1.1 as a number (10); write it in quotes: "012"'
    ]


def test_jinja_templates_are_refused_where_data_is_expected(tmp_path):
    text = site_text().replace("city: testcity", "city: \"{{ lookup('pipe', 'id') }}\"")
    found = problems(tmp_path, {"a.yml": text})
    assert len(found) == 1 and found[0].startswith("a.yml:4: ") and "would be templated" in found[0]


def test_oversized_document(tmp_path):
    text = site_text() + "# " + "x" * (5 * 1024 * 1024) + "\n"
    assert problems(tmp_path, {"a.yml": text})[0].startswith("a.yml:1: file is ")


def test_deeply_nested_document(tmp_path):
    text = site_text() + "vars:\n  deep: " + "[" * 40 + "]" * 40 + "\n"
    assert "nesting deeper than 16 levels" in problems(tmp_path, {"a.yml": text})[0]


def test_alias_bomb(tmp_path):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    text = site_text() + "vars:\n" + "\n".join("  " + line for line in lines) + "\n"
    found = problems(tmp_path, {"a.yml": text})
    assert len(found) == 1 and "alias bomb" in found[0]


def test_recursive_alias(tmp_path):
    text = site_text() + "vars:\n  loop: &loop [*loop]\n"
    found = problems(tmp_path, {"a.yml": text})
    assert len(found) == 1 and found[0].startswith("a.yml:1: ")


def test_duplicate_keys_unknown_keys_and_literal_secrets(tmp_path):
    text = site_text().replace("  city: testcity", "  city: testcity\n  city: again\n  timezon: UTC")
    text = text.replace("{type: ssh, user: ccops, become: true}", "{type: ssh, user: ccops, become_password: hunter2}")
    found = problems(tmp_path, {"a.yml": text})
    assert "a.yml:5: duplicate key 'city'" in found
    assert "a.yml:6: site.timezon: unknown key (did you mean 'timezone'?)" in found
    assert any(f.startswith("a.yml:10: connections.linux.become_password: secrets are never written") for f in found)


def test_unknown_time_zone_and_missing_fields(tmp_path):
    text = site_text().replace("Asia/Shanghai", "Mars/Olympus").replace("    business_line: voice\n", "")
    found = problems(tmp_path, {"a.yml": text})
    assert "a.yml:5: site.timezone: unknown time zone 'Mars/Olympus' (e.g. Asia/Shanghai)" in found
    assert "a.yml:10: groups[0].business_line: required" in found


def test_missing_inventory_and_empty_sites(tmp_path):
    inventory, found = check_inventory(tmp_path / "nowhere")
    assert inventory is None and "no inventory here" in found[0].message
    (tmp_path / "empty" / "sites").mkdir(parents=True)
    (tmp_path / "empty" / "ccops.yml").write_text("plugin: ccops\n")
    _, found = check_inventory(tmp_path / "empty")
    assert "no site files" in found[0].message


def test_the_example_inventory_is_a_real_centre():
    inventory, found = check_inventory(EXAMPLE)
    assert found == []
    roles = [h.role for h in inventory.hosts.values()]
    desktops = sum(r in ("agent_desktop", "supervisor_desktop") for r in roles)
    cities = {s.city for s in inventory.sites.values()}
    assert len(inventory.sites) == 3 and len(cities) == 2
    assert desktops == 2500 and len(roles) - desktops == 700


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("//", "'//' is not an absolute path in normal form"),
        ("//etc", "'//etc' is not an absolute path in normal form"),
        ("//usr", "'//usr' is not an absolute path in normal form"),
        ("/./etc", "'/./etc' is not an absolute path in normal form"),
        ("/etc/../usr", "'/etc/../usr' is not an absolute path in normal form"),
        (
            "/srv/recordings/",
            "'/srv/recordings/' is not an absolute path in normal form (did you mean '/srv/recordings'?)",
        ),
        ("srv/recordings", "'srv/recordings' is not an absolute path in normal form"),
        ("/", "'/' is a system folder"),
        ("/srv", "'/srv' is a system folder"),
        ("/var", "'/var' is a system folder"),
        ("/usr/share/doc", "'/usr/share/doc' lies in the protected system folder '/usr'"),
        ("/etc/ssl/private/seat.key", "'/etc/ssl/private/seat.key' lies in the protected system folder '/etc'"),
        ("/var/lib/ccops", "'/var/lib/ccops' is a system folder"),
    ],
)
def test_decommission_data_paths_must_be_plain_data_folders(tmp_path, path, why):
    text = site_text() + f'    vars: {{decommission_data_paths: [/srv/recordings, "{path}"]}}\n'
    found = problems(tmp_path, {"a.yml": text})
    assert len(found) == 1 and found[0].startswith(f"a.yml:17: groups[0].vars.decommission_data_paths[1]: {why}")


def test_data_paths_are_checked_in_site_and_host_vars_too(tmp_path):
    text = site_text() + "vars: {decommission_data_paths: [//etc]}\nhosts:\n  tst-t01:\n    vars:\n"
    text += "      decommission_certificates: [/etc/ssl/private/seat.key, /etc/ssl/private, //etc/ssl/x.key]\n"
    found = problems(tmp_path, {"a.yml": text})
    assert found == [
        "a.yml:17: vars.decommission_data_paths[0]: '//etc' is not an absolute path in normal form",
        "a.yml:21: hosts.tst-t01.vars.decommission_certificates[1]: '/etc/ssl/private' is a system folder",
        "a.yml:21: hosts.tst-t01.vars.decommission_certificates[2]: '//etc/ssl/x.key' is not an absolute path "
        "in normal form (did you mean '/etc/ssl/x.key'?)",
    ]


def test_good_decommission_paths_pass(tmp_path):
    text = site_text() + "    vars: {decommission_data_paths: [/srv/recordings, /home/agent01, /var/lib/ccagent],\n"
    text += (
        "           decommission_certificates: [/etc/ssl/private/seat.key, /usr/local/share/ca-certificates/x.crt]}\n"
    )
    assert problems(tmp_path, {"a.yml": text}) == []


def test_the_account_ccops_connects_as_cannot_be_a_service_account(tmp_path):
    text = site_text() + "accounts:\n  - {name: zhang}\n  - {name: ccops, kind: service}\n"
    found = problems(tmp_path, {"a.yml": text})
    assert found == [
        "a.yml:19: accounts[1].kind: 'ccops' is the account ccops connects as; a service account has no login "
        "shell, so ccops could never log in again (did you mean kind: person?)"
    ]
    assert problems(tmp_path / "ok", {"a.yml": text.replace("ccops, kind: service", "ccops, kind: person")}) == []


@pytest.mark.parametrize("value", ["fe80::1%eth0", "fe80::1%eth0\n} accept; flush ruleset", 'fe80::1%e"th0'])
def test_ipv6_zone_ids_are_refused_wherever_an_address_is_read(tmp_path, value):
    quoted = json.dumps(value)  # JSON is YAML: the value arrives exactly as given
    text = site_text().replace("  rollout:", f"  management: [{quoted}]\n  rollout:")
    text += f"policies: [{{firewall: {{deny: [{quoted}]}}}}]\nhosts:\n  tst-t01: {{address: {quoted}}}\n"
    found = problems(tmp_path, {"a.yml": text})
    zone = "the IPv6 zone id (after '%') names one machine's interface; a site-wide address takes none"
    assert found == [
        f"a.yml:6: site.management[0]: {value!r}: {zone}",
        f"a.yml:18: policies[0].firewall.deny[0]: {value!r}: {zone}",
        f"a.yml:20: hosts.tst-t01.address: {value!r}: {zone}",
    ]
    grouped = problems(tmp_path / "g", {"a.yml": site_text(address=quoted)})
    assert grouped == [f"a.yml:16: groups[0].addresses: {value!r}: {zone}"]


def _with_deny(deny: str, site_lines: str = "  management: [10.9.200.5, 10.9.201.0/28]\n") -> str:
    text = site_text().replace("  rollout:", site_lines + "  rollout:")
    return (
        text + f"policies:\n  - firewall:\n      allow: [{{ports: [22], from: [management]}}]\n      deny: [{deny}]\n"
    )


@pytest.mark.parametrize(
    ("deny", "what"),
    [
        ("0.0.0.0/0", "10.9.200.5, a management address (site.management)"),
        ("10.9.200.5", "10.9.200.5, a management address (site.management)"),
        ("10.9.201.8/29", "10.9.201.0/28, a management address (site.management)"),
    ],
)
def test_a_deny_entry_that_holds_a_management_address_is_refused(tmp_path, deny, what):
    found = problems(tmp_path, {"a.yml": _with_deny(deny)})
    assert found == [
        f"a.yml:21: policies[0].firewall.deny[0]: {deny} contains {what}: "
        "nftables drops a denied address before any allow rule, so ccops would lock itself out (narrow the deny entry)"
    ]


def test_a_deny_entry_may_not_cut_off_the_node_distribution_point_or_backup_target(tmp_path):
    services = (
        "  node: {address: 10.7.0.1, connection: linux}\n"
        "  distribution_point: {host: tst-t02, path: /srv/dist}\n"
        "  backup_target: {host: 10.8.0.9, path: /srv/backups}\n"
    )
    for deny, what in (
        ("10.7.0.0/16", "10.7.0.1, the site's execution node (site.node)"),
        ("10.9.0.2", "10.9.0.2, the site's distribution point (site.distribution_point)"),
        ("10.8.0.0/24", "10.8.0.9, the site's backup target (site.backup_target)"),
    ):
        found = problems(tmp_path / deny.replace("/", "_"), {"a.yml": _with_deny(deny, services)})
        assert len(found) == 1 and found[0].startswith(
            f"a.yml:23: policies[0].firewall.deny[0]: {deny} contains {what}"
        )
    assert problems(tmp_path / "ok", {"a.yml": _with_deny("198.51.100.0/24", services)}) == []


WINDOWS_GROUP = """\
  - name: seats
    role: agent_desktop
    os: win11
    business_line: voice
    connection: win
    hosts: tst-w[01:03]
    addresses: 10.9.5.1
"""


def _with_windows(group_vars: str = "", site_vars: str = "", host_vars: str = "") -> str:
    text = site_text().replace(
        "connections:\n", "connections:\n  win: {type: winrm, user: svc-ccops, dns_domain: w.example}\n"
    )
    text += WINDOWS_GROUP + (f"    vars: {group_vars}\n" if group_vars else "")
    text += f"vars: {site_vars}\n" if site_vars else ""
    return text + (f"hosts:\n  tst-w02: {{vars: {host_vars}}}\n" if host_vars else "")


@pytest.mark.parametrize("card", ["command", "lab"])
def test_a_linux_restore_card_on_a_windows_host_is_refused_where_it_is_set(tmp_path, card):
    """Every verb loads the inventory through validation: a Windows seat with a Linux card is
    refused before any verb runs, at the line of the variable that gives it the card."""
    found = problems(tmp_path, {"a.yml": _with_windows(group_vars=f"{{patch_restore_card: {card}}}")})
    assert found == [
        f"a.yml:25: tst-w01: restore card '{card}' does not exist on windows "
        "(patch_restore_card: one of none, uwf, deepfreeze) (and 2 more hosts set here)"
    ]
    found = problems(tmp_path / "host", {"a.yml": _with_windows(host_vars=f"{{restore_card_type: {card}}}")})
    assert found == [
        f"a.yml:26: tst-w02: restore card '{card}' does not exist on windows "
        "(patch_restore_card: one of none, uwf, deepfreeze)"
    ]


def test_a_site_wide_linux_card_reaches_the_windows_hosts_unless_their_group_says_otherwise(tmp_path):
    found = problems(tmp_path, {"a.yml": _with_windows(site_vars="{patch_restore_card: lab}")})
    assert len(found) == 1 and found[0].startswith("a.yml:25: tst-w01: restore card 'lab' does not exist on windows")
    text = _with_windows(group_vars="{patch_restore_card: uwf}", site_vars="{patch_restore_card: lab}")
    assert problems(tmp_path / "ok", {"a.yml": text}) == []  # Debian keeps lab, the Windows group uwf
    assert problems(tmp_path / "none", {"a.yml": _with_windows(group_vars="{patch_restore_card: deepfreeze}")}) == []


def test_site_codes_that_differ_only_in_case_are_one_site_code(tmp_path):
    """Both would be Ansible's group site_aaa, whose vars carry a site's settings to its hosts."""
    second = site_text("AAA", address="10.9.1.1").replace("hosts: AAA-t[01:04]", "hosts: bbb-t[01:04]")
    found = problems(tmp_path, {"a.yml": site_text("aaa"), "b.yml": second})
    assert len(found) == 1 and found[0].startswith("b.yml:2: site code 'AAA' is also used by "), found
    assert found[0].endswith("a.yml (as 'aaa'; codes ignore case)")
