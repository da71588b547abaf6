"""A corpus of hostile site files, tried as an attacker with write access to a site file would.

Every case must leave the jump host untouched (the MARK file is never created), produce
no traceback and no hang, and be refused with FILE:LINE where it is refused, by every
command that reads an inventory: validate, list, plan, stock ansible-inventory, inspect
and patch. Hosts sit at 127.0.0.9, where nothing answers.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, ROOT, ccops_env, run_ccops
from tests.json_output import payload

BASE = """\
site:
  code: tst
  city: testcity
  timezone: UTC
  maintenance_windows: [{start: "00:00", end: "00:00"}]
  rollout: {canary: 1, waves: ["100%"], batch_size: 2, max_fail_percentage: 0}
  backup_target: {host: localhost, path: /var/tmp/ccops-hostile-backups}
connections:
  linux:
    type: ssh
    user: ccops
    become: true
    become_password: {env: CCOPS_HOSTILE_BECOME}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: tst-a0[1:2]
    addresses: 127.0.0.9
    vars: {}
"""
PIPE = "lookup('pipe','touch MARK')"


def _sub(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


# name -> site file text; MARK is replaced by a file that must never come to exist
REFUSED = {
    "secret env name closes the lookup": _sub("{env: CCOPS_HOSTILE_BECOME}", f"{{env: \"X') ~ {PIPE} ~ ('\"}}"),
    "secret env name with a command": _sub("{env: CCOPS_HOSTILE_BECOME}", '{env: "$(touch MARK)"}'),
    "become password with a #jinja2 header": _sub(
        "vars: {}",
        "vars: {ansible_become_password: \"#jinja2:variable_start_string:'[[', "
        "variable_end_string:']]'\\n[[ lookup('pipe','touch MARK') ]]\"}",
    ),
    "ssh arguments with a ProxyCommand": _sub(
        "vars: {}", "vars: {ansible_ssh_common_args: \"-o 'ProxyCommand=touch MARK'\"}"
    ),
    "connection local runs on the jump host": _sub("vars: {}", "vars: {ansible_connection: local}"),
    "plain become password in vars": _sub("vars: {}", "vars: {ansible_become_password: hunter2}"),
    "shadowing what ccops computes": _sub("vars: {}", "vars: {ccops_lifecycle: active}"),
    "Ansible magic variable": _sub("vars: {}", "vars: {hostvars: {}}"),
    "template in a value": _sub("vars: {}", f'vars: {{note: "{{{{ {PIPE} }}}}"}}'),
    "statement in a value": _sub("vars: {}", 'vars: {note: "{% set x = 1 %}"}'),
    "#jinja2 header in a value": _sub("vars: {}", "vars: {note: \"#jinja2:block_start_string:'<%'\\n<% x %>\"}"),
    "template in a site var": BASE + f'vars: {{backup_paths: ["{{{{ {PIPE} }}}}"]}}\n',
    "python object tag": _sub("vars: {}", 'vars: {note: !!python/object/apply:os.system ["touch MARK"]}'),
    "binary value": _sub("vars: {}", "vars: {note: !!binary aGVsbG8=}"),
    "set value": _sub("vars: {}", "vars: {note: !!set {a, b}}"),
    "unquoted date": _sub("vars: {}", "vars: {installed: 2026-01-01}"),
    "host name with a trailing newline": _sub("hosts: tst-a0[1:2]", 'hosts: "tst-a01\\n"'),
    "host name with a command": _sub("hosts: tst-a0[1:2]", 'hosts: "tst-$(touch MARK)"'),
    "user with ssh options": _sub("user: ccops", 'user: "ccops -oProxyCommand=touch MARK"'),
    "key file with a quote": _sub("user: ccops", "user: ccops\n    key_file: '/tmp/k\" -oProxyCommand=\"touch MARK'"),
    "negative port": _sub("type: ssh", "type: ssh\n    port: -5"),
    "mac with a template": BASE + f'hosts:\n  tst-a01: {{mac: "{{{{ {PIPE} }}}}"}}\n',
    "mac with a command": BASE + 'hosts:\n  tst-a01: {mac: "52:54:00:cc:01:01; touch MARK"}\n',
    "huge port": _sub("type: ssh", "type: ssh\n    port: 99999999999999999999"),
    "not-a-number gate": _sub("max_fail_percentage: 0", "max_fail_percentage: .nan"),
    "infinite gate": _sub("max_fail_percentage: 0", "max_fail_percentage: .inf"),
    "gate over 100": _sub("max_fail_percentage: 0", "max_fail_percentage: 250"),
    "address with a command": _sub("addresses: 127.0.0.9", 'addresses: "127.0.0.9; touch MARK"'),
    "busy check url to a local file": _sub(
        "  backup_target:", '  busy_check: {url: "file:///etc/shadow"}\n  backup_target:'
    ),
    "backup target with ..": _sub("path: /var/tmp/ccops-hostile-backups", "path: /var/tmp/../../etc"),
    "backup target relative": _sub("path: /var/tmp/ccops-hostile-backups", "path: etc"),
    "unknown key in a site service": _sub("{host: localhost,", '{host: localhost, exec: "touch MARK",'),
    "risk threshold not a number": _sub("  backup_target:", "  risk: {disk_used_pct: .nan}\n  backup_target:"),
    "risk threshold out of range": _sub("  backup_target:", "  risk: {not_seen_days: -1}\n  backup_target:"),
    "risk threshold as text": _sub(
        "  backup_target:", '  risk: {security_pending_days: "7; touch MARK"}\n  backup_target:'
    ),
    "unknown risk threshold": _sub("  backup_target:", '  risk: {exec: "touch MARK"}\n  backup_target:'),
    "merge key": _sub("vars: {}", "vars: {<<: {a: 1}}"),
    "decommission hook as a shell string": _sub(
        "  backup_target:", '  decommission: {hooks: ["touch MARK; rm -rf /"]}\n  backup_target:'
    ),
    "decommission hook with a template": _sub(
        "  backup_target:", f'  decommission: {{hooks: [["/bin/echo", "{{{{ {PIPE} }}}}"]]}}\n  backup_target:'
    ),
    "decommission cap of zero": _sub("  backup_target:", "  decommission: {max_hosts: 0}\n  backup_target:"),
    "decommission end state unknown": _sub("  backup_target:", "  decommission: {end_state: melt}\n  backup_target:"),
    "retired_on as an unquoted date": BASE + "hosts:\n  tst-a01: {lifecycle: retired, retired_on: 2026-11-23}\n",
    "alias bomb": "a: &a [x,x,x,x,x,x,x,x,x]\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
        f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
        for i in range(8)
    ),
    "30,000 nested brackets": "site: " + "[" * 30000 + "\n",
    "30,000 nested mappings": "site: " + "{a: " * 30000 + "\n",
    "not UTF-8": "site: {code: \xff}\n",
    "node name with ssh options": _sub("timezone: UTC", 'timezone: UTC\n  node: "-oProxyCommand=touch MARK"'),
    "node address with a command": _sub(
        "timezone: UTC", 'timezone: UTC\n  node: {address: "127.0.0.9; touch MARK", connection: linux}'
    ),
    "node with its own ssh options": _sub(
        "timezone: UTC",
        'timezone: UTC\n  node: {address: 127.0.0.9, connection: linux, ssh_args: "-oProxyCommand=touch MARK"}',
    ),
    "node not in the inventory": _sub("timezone: UTC", "timezone: UTC\n  node: tst-z99"),
    "node on Debian 11": _sub("os: debian12", "os: debian11").replace(
        "timezone: UTC", "timezone: UTC\n  node: tst-a01", 1
    ),
    "node without a profile": _sub("timezone: UTC", "timezone: UTC\n  node: {address: 127.0.0.9, connection: nope}"),
    # policies and accounts (ccops comply): values reach hosts as data, never as shell or template
    "account name with a command": BASE + 'accounts: [{name: "$(touch MARK)"}]\n',
    "account name that is an option": BASE + 'accounts: [{name: "-rf"}]\n',
    "account comment with a passwd separator": BASE + 'accounts: [{name: zhang, comment: "x:0:0::/root:/bin/sh"}]\n',
    "account comment with a newline": BASE + 'accounts: [{name: zhang, comment: "x\\nevil::0:0"}]\n',
    "revoking the account ccops connects as": BASE + "accounts: [{name: ccops, state: revoked}]\n",
    "managing root": BASE + "accounts: [{name: root, admin: true}]\n",
    "firewall port with nft syntax": BASE
    + 'policies: [{firewall: {allow: [{ports: ["22 } accept; flush ruleset"], from: [site]}]}}]\n',
    "firewall source with a template": BASE
    + f'policies: [{{firewall: {{allow: [{{ports: [22], from: ["group:{{{{ {PIPE} }}}}"]}}]}}}}]\n',
    "firewall source that is a literal address": BASE
    + 'policies: [{firewall: {allow: [{ports: [22], from: ["0.0.0.0/0"]}]}}]\n',
    "deny list entry with a command": BASE + 'policies: [{firewall: {deny: ["10.0.0.0/8; touch MARK"]}}]\n',
    "blocked site that adds a hosts entry": BASE
    + 'policies: [{blocked_sites: ["evil.example\\n10.6.6.6 bank.example"]}]\n',
    "service name with a command": BASE + 'policies: [{services: ["ssh; touch MARK"]}]\n',
    "ssh setting outside the hardening list": BASE + 'policies: [{ssh: {permit_root_login: "yes"}}]\n',
    "management address with a command": _sub(
        "  backup_target:", '  management: ["10.0.0.1 touch MARK"]\n  backup_target:'
    ),
    "policy matching an unknown group": BASE + "policies: [{match: {groups: [nosuch]}, usb_storage: blocked}]\n",
    "approve-after-days with a template": _sub(
        "  backup_target:", f'  patch_content: {{approve_after_days: "{{{{ {PIPE} }}}}"}}\n  backup_target:'
    ),
    "approve-after-days out of range": _sub(
        "  backup_target:", "  patch_content: {approve_after_days: -1}\n  backup_target:"
    ),
    "approve-after-days as a boolean": _sub(
        "  backup_target:", "  patch_content: {approve_after_days: yes}\n  backup_target:"
    ),
    "patch content with an unknown key": _sub(
        "  backup_target:", "  patch_content: {source: http://elsewhere.invalid/debian}\n  backup_target:"
    ),
    # destructive paths: POSIX keeps a leading '//' through normpath, the kernel reads it as '/'
    "decommission data path //": _sub("vars: {}", 'vars: {decommission_data_paths: ["//"]}'),
    "decommission data path //etc": _sub("vars: {}", 'vars: {decommission_data_paths: ["//etc", "//usr"]}'),
    "decommission data path /./etc": _sub("vars: {}", 'vars: {decommission_data_paths: ["/./etc"]}'),
    "decommission data path /etc/../usr": _sub("vars: {}", 'vars: {decommission_data_paths: ["/etc/../usr"]}'),
    "decommission data path in the OS": _sub("vars: {}", "vars: {decommission_data_paths: [/usr/lib]}"),
    "decommission data path that holds /var/lib": BASE + "vars: {decommission_data_paths: [/var]}\n",
    "decommission certificate path //etc/ssl": BASE
    + 'hosts:\n  tst-a01: {vars: {decommission_certificates: ["//etc/ssl/private"]}}\n',
    # lock-out: nftables drops a denied address before any allow rule
    "deny list holding the management network": _sub("  backup_target:", "  management: [10.9.200.5]\n  backup_target:")
    + 'policies: [{firewall: {allow: [{ports: [22], from: [management]}], deny: ["0.0.0.0/0"]}}]\n',
    "deny list holding the backup target": _sub("{host: localhost,", "{host: 10.8.0.9,")
    + 'policies: [{firewall: {deny: ["10.8.0.0/24"]}}]\n',
    "the account ccops connects as made a service account": BASE + "accounts: [{name: ccops, kind: service}]\n",
    "deny entry with a zone id and a newline": BASE
    + 'policies: [{firewall: {deny: ["fe80::1%eth0\\n} accept; flush ruleset"]}}]\n',
    # a Linux restore card on a Windows seat: the write filter stays on, the change vanishes at boot
    "windows seat with a command restore card": _sub(
        "connections:\n", "connections:\n  win: {type: winrm, user: svc-ccops, dns_domain: w.example}\n"
    )
    + "  - {name: seats, role: agent_desktop, os: win11, business_line: voice, connection: win,\n"
    + "     hosts: tst-w01, addresses: 127.0.0.20, vars: {patch_restore_card: command}}\n",
    "windows seat with a lab restore card": _sub(
        "connections:\n", "connections:\n  win: {type: winrm, user: svc-ccops, dns_domain: w.example}\n"
    )
    + "  - {name: seats, role: agent_desktop, os: win11, business_line: voice, connection: win,\n"
    + "     hosts: tst-w01, addresses: 127.0.0.20}\nhosts:\n  tst-w01: {vars: {restore_card_type: lab}}\n",
    "management address with a zone id and a quote": _sub(
        "  backup_target:", '  management: ["fe80::1%e\\"th0"]\n  backup_target:'
    ),
}
# accepted, because the value is legitimate data; it must still stay data
ACCEPTED = {
    # a legal (if odd) file name: it reaches Ansible only as data beside a constant template
    "secret file path closes the lookup": _sub("{env: CCOPS_HOSTILE_BECOME}", f"{{file: \"/x') ~ {PIPE} ~ ('\"}}"),
    "known_hosts path with ssh options in it": _sub(
        "user: ccops", "user: ccops\n    known_hosts: \"/tmp/kh -o 'ProxyCommand=touch MARK'\""
    ),
    "known_hosts path with a space": _sub("user: ccops", "user: ccops\n    known_hosts: /tmp/my known hosts"),
    "shell text in a plain value": _sub("vars: {}", 'vars: {note: "$(touch MARK); `touch MARK`"}'),
    "account comment that would be a shell line": BASE + 'accounts: [{name: zhang, comment: "$(touch MARK)"}]\n',
    "health command that would be a shell line": _sub("vars: {}", 'vars: {patch_health_commands: [["touch MARK"]]}'),
    "decommission hook word that would be a shell line": _sub(
        "  backup_target:", '  decommission: {hooks: [["touch MARK; echo"]]}\n  backup_target:'
    ),
}


def _inventory(tmp_path: Path, text: str, mark: Path) -> Path:
    folder = tmp_path / "inv"
    (folder / "sites").mkdir(parents=True)
    (folder / "ccops.yml").write_text("plugin: ccops\nsites: sites\n")
    body = text.replace("MARK", str(mark))
    (folder / "sites" / "tst.yml").write_bytes(body.encode("latin-1") if "\xff" in body else body.encode())
    return folder


def _commands(inv: Path) -> list[list[str]]:
    return [
        [str(BIN / "ccops"), "inventory", "validate", "-i", str(inv)],
        [str(BIN / "ccops"), "inventory", "list", "-i", str(inv)],
        [str(BIN / "ccops"), "plan", "patch", "-i", str(inv)],
        [str(BIN / "ansible-inventory"), "-i", str(inv), "--list"],
        [str(BIN / "ccops"), "inspect", "-i", str(inv), "--change-id", "CHG-HOSTILE", "--output", "json"],
        [str(BIN / "ccops"), "patch", "-i", str(inv), "--change-id", "CHG-HOSTILE", "--yes", "--output", "json"],
    ]


def _run(argv: list[str], home: Path) -> subprocess.CompletedProcess:
    env = {**ccops_env(home), "CCOPS_HOSTILE_BECOME": "not-a-real-password"}
    # a hang is a failure: no command may wait for ever on a site file
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_hostile_site_file_is_refused_by_every_command_and_runs_nothing(tmp_path, name):
    mark = tmp_path / "PWNED"
    inv = _inventory(tmp_path, REFUSED[name], mark)
    for argv in _commands(inv):
        result = _run(argv, tmp_path / "home")
        what = f"{name}: {' '.join(argv[1:3])}"
        assert result.returncode != 0, f"{what} accepted it:\n{result.stdout[-2000:]}"
        assert "Traceback" not in result.stderr, f"{what}:\n{result.stderr[-3000:]}"
        assert not mark.exists(), f"{what} ran the command"
        if argv[0].endswith("ccops"):
            assert "sites/tst.yml:" in result.stderr, f"{what}: no FILE:LINE in {result.stderr[-1000:]!r}"
    assert not (tmp_path / "home" / "runs").exists() or not any((tmp_path / "home" / "runs").iterdir())


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_hostile_looking_data_that_is_accepted_stays_data(tmp_path, name):
    mark = tmp_path / "PWNED"
    inv = _inventory(tmp_path, ACCEPTED[name], mark)
    validate, *others = _commands(inv)
    assert _run(validate, tmp_path / "home").returncode == 0
    for argv in others:
        result = _run(argv, tmp_path / "home")
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        assert not mark.exists(), f"{name}: {' '.join(argv[1:3])} ran the command"
    # the hosts never answer: the patch run halts on its failed canary (exit 3), no host is ok
    assert result.returncode == 3, result.stderr[-2000:]
    assert '"outcome": "ok"' not in result.stdout


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "symlink-loop", "directory", "oversized"])
def test_site_files_that_are_not_files_fail_at_once(tmp_path, kind):
    inv = _inventory(tmp_path, BASE, tmp_path / "PWNED")
    odd = inv / "sites" / "odd.yml"
    if kind == "fifo":
        os.mkfifo(odd)
    elif kind == "dev-zero":
        odd.symlink_to("/dev/zero")
    elif kind == "symlink-loop":
        odd.symlink_to(inv / "sites" / "odd2.yml")
        (inv / "sites" / "odd2.yml").symlink_to(odd)
    elif kind == "directory":
        odd.mkdir()
    else:
        odd.write_text("# padding\n" * 500_000)
    for argv in _commands(inv)[:4]:
        result = _run(argv, tmp_path / "home")
        assert result.returncode != 0
        assert "Traceback" not in result.stderr, result.stderr[-3000:]
        if argv[0].endswith("ccops"):
            assert "sites/odd.yml:1:" in result.stderr, result.stderr[-1000:]


def test_stock_ansible_inventory_fails_on_a_broken_inventory(tmp_path):
    """ansible.cfg makes an unparsable source an error, not an empty inventory with exit 0."""
    inv = _inventory(tmp_path, BASE.replace("groups:", "groups: 7\nx:"), tmp_path / "PWNED")
    result = _run([str(BIN / "ansible-inventory"), "-i", str(inv), "--list"], tmp_path / "home")
    assert result.returncode != 0
    assert "sites/tst.yml:" in result.stderr


def test_the_secret_template_is_constant_whatever_the_reference_holds(ccops, tmp_path):
    """The only text Ansible templates is ccops's own; the reference travels beside it as data."""
    inv = _inventory(
        tmp_path, BASE.replace("{env: CCOPS_HOSTILE_BECOME}", '{file: "/tmp/it\'s here"}'), tmp_path / "PWNED"
    )
    shown = run_ccops(ccops.home, "inventory", "show", "tst-a01", "-i", str(inv), "--output", "json", check=True)
    hostvars = payload(shown.stdout)["vars"]
    template = "{{ lookup('ansible.builtin.file', ccops_secret_become_password_file) }}"
    assert hostvars["ansible_become_password"] == template
    assert hostvars["ccops_secret_become_password_file"] == "/tmp/it's here"
    assert hostvars["ansible_ssh_common_args"] == "-o StrictHostKeyChecking=yes"


@pytest.mark.parametrize(
    "change_id",
    [
        "CHG-{{ lookup('pipe','touch MARK') }}",
        "CHG-{% if lookup('pipe','touch MARK') %}x{% endif %}",
        "#jinja2:variable_start_string:'[['",
    ],
)
def test_a_change_id_is_data_never_a_template(tmp_path, change_id):
    """A pipeline passes the ticket id as typed: Ansible would template it on the jump host."""
    mark = tmp_path / "PWNED"
    inv = _inventory(tmp_path, BASE, mark)
    typed = change_id.replace("MARK", str(mark))
    for verb in (["inspect"], ["patch", "--yes"], ["software", "apply", "--yes"], ["comply", "--yes"]):
        result = _run([str(BIN / "ccops"), *verb, "-i", str(inv), "--change-id", typed], tmp_path / "home")
        assert result.returncode == 64, (verb, result.stderr[-2000:])
        assert "would be templated by Ansible" in result.stderr and "Traceback" not in result.stderr, result.stderr
        assert not mark.exists(), f"{verb} ran the command"
    assert not (tmp_path / "home" / "runs").exists() or not any((tmp_path / "home" / "runs").iterdir())
