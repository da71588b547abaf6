"""Every `-o json` document is one envelope ({schema, ccops, data}) valid against its published schema.

The commands run for real (the CLI in a child process) against a store of a small fleet
(tests/fleet_records.py) and runs whose hosts are scripted (tests/cli/scripted_cli.py); each
document is validated with jsonschema against docs/reference/schemas/<command>.schema.json.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click
import jsonschema
import pytest
from referencing import Registry, Resource

from ccops import __version__
from ccops.store.records import Store
from ccops.verbs import VERBS
from tests.conftest import EXAMPLE, ROOT, run_scripted, write_inventory
from tests.fleet_records import seed_fleet, site_file

SCHEMAS = ROOT / "docs" / "reference" / "schemas"
SCHEMA_PAGE = ROOT / "docs" / "reference" / "json-output.md"
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

# commands offering JSON that need hosts, a lab, a build or a certificate this store lacks: their
# documents are checked where those exist (tests/lab); their schemas exist all the same
NOT_RUN_HERE = {
    "content-approve": "needs a snapshot taken from hosts",
    "content-snapshot": "reaches hosts",
    "hostkey-check": "scans hosts' SSH keys",
    "image-show": "needs a cached image build",
    "lab-status": "the container lab",
    "lab-vm-status": "the lab's virtual machines",
    "node-prepare": "reaches an execution node",
    "resume": "needs an interrupted run",
    "runs-certificate": "needs a decommission certificate",
    "schedule-run": "fires a run at its hour",
    "software-stage": "reaches a site's package source",
    "software-remove": "needs an installed application",
    "software-apply": "needs a catalogue with an application",
    "software-status": "needs hosts' software reports",
    "reapply": "needs reverted patches",
    "rollback": "needs a backup on a host",
    "decommission": "reaches hosts",
    "deploy": "needs an image build",
}


def registry() -> Registry:
    """Every schema file, by its file name: a schema's relative $ref (run-result.schema.json) finds its file."""
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text()))) for path in SCHEMAS.glob("*.schema.json")
    ]
    return Registry().with_resources(resources)


MAJORS = {"inventory-list": 2}  # site variables moved to the site group's vars


def validate(name: str, text: str) -> dict[str, Any]:
    document = json.loads(text)
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, registry=registry()).validate(document)
    # the major a command's shape is at (raised by a change a pipeline must notice); the schema says the same
    assert document["schema"] == f"ccops/{name}/{MAJORS.get(name, 1)}" and document["ccops"] == __version__
    return document


def json_commands() -> list[str]:
    """Every command that prints JSON (an -o/--output choice holding json, and image show), as schema names."""
    from ccops.cli.main import cli
    from ccops.cli.output import schema_name

    found = {"image-show"}  # prints JSON only: its manifest

    def walk(command: click.Command, path: str) -> None:
        for param in command.params:  # a group run without a subcommand (ccops vulns) prints too
            if isinstance(param.type, click.Choice) and "json" in param.type.choices:
                found.add(schema_name(path))
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=path.rsplit(maxsplit=1)[-1])
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    walk(sub, f"{path} {name}")

    walk(cli, "ccops")
    return sorted(found)


def test_every_command_printing_json_has_a_schema_listed_in_the_docs():
    commands = json_commands()
    assert {"runs-list", "patch", "plan", "inventory-list", "report"} <= set(commands)  # the walk found the tree
    page = SCHEMA_PAGE.read_text()
    for name in commands:
        schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert f"schemas/{name}.schema.json" in page, f"{name} is not in the docs' schema table"
    shared = {"run-result", "envelope"}
    assert {p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")} == set(commands) | shared


def snake_keys(value: Any, where: str, maps: set[str]) -> None:
    """Every field name snake_case; at the paths in ``maps`` the keys are data (host names, files)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if where in OPAQUE:
                return
            if where not in maps:
                assert SNAKE.match(key), f"{where}: key {key!r} is not snake_case"
            snake_keys(item, f"{where}.*" if where in maps else f"{where}.{key}", maps)
    elif isinstance(value, list):
        for item in value:
            snake_keys(item, f"{where}[]", maps)


# keyed by data: host names, site codes, package and file names, outcomes
DATA_KEYS = {
    "$.data.reports",
    "$.data.waves[].sites",
    "$.data.waves[].outcomes",
    "$.data.asset.record.packages.items",
    "$.data.plan.inventory_files",
    "$.data[].plan.inventory_files",
    "$.data.plan.night.sites",
    "$.data[].plan.night.sites",
    "$.data.night.sites",
}
# Ansible's variables, named as the site file names them
OPAQUE = {"$.data.*.hostvars.*", "$.data.*.vars", "$.data.vars"}


PATCH_SITE = """\
site:
  code: {code}
  city: testcity
  timezone: UTC
  maintenance_windows: [{{start: "00:00", end: "00:00"}}]
  rollout: {{canary: 1, waves: ["100%"], batch_size: 2, max_fail_percentage: 100}}
  backup_target: {{host: localhost, path: /var/tmp/ccops-json-schemas}}
connections:
  linux: {{type: ssh, user: ccops, become: true}}
groups:
  - name: agents
    role: agent_desktop
    os: debian12
    business_line: voice
    connection: linux
    hosts: {code}-a0[1:3]
    addresses: 127.0.3.9
"""


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each command's standard output, by schema name, from one store with runs of every kind."""
    tmp = tmp_path_factory.mktemp("json-schemas")
    home = tmp / "home"
    hosts_file = tmp / "hosts.json"
    fleet = str(
        write_inventory(
            tmp / "fleet",
            {"aaa.yml": site_file("aaa", 4, "10.0.0.1"), "bbb.yml": site_file("bbb", 3, "10.0.1.1", os="debian11")},
        )
    )
    home.mkdir(mode=0o700)
    seed_fleet(Store(home / "ccops.db"))
    lyo = str(write_inventory(tmp / "lyo", {"lyo.yml": PATCH_SITE.format(code="lyo")}))
    example = str(EXAMPLE)

    def ccops(*args: str, outcomes: dict[str, str] | None = None) -> str:
        proc = run_scripted("tests.cli.scripted_cli", home, hosts_file, {"outcomes": outcomes or {}}, *args)
        assert proc.returncode in (0, 1, 2), f"ccops {' '.join(args)}: {proc.returncode}\n{proc.stderr}"
        return proc.stdout

    out: dict[str, str] = {}
    out["patch"] = ccops(
        "patch", "-i", lyo, "--change-id", "CHG-1", "--yes", "-o", "json", outcomes={"lyo-a02": "failed"}
    )
    out["inspect"] = ccops("inspect", "-i", lyo, "-o", "json")
    out["comply"] = ccops("comply", "-i", lyo, "--check", "-o", "json")
    run_id = json.loads(out["patch"])["data"]["run_id"]
    out["runs-list"] = ccops("runs", "list", "-o", "json")
    out["runs-show"] = ccops("runs", "show", run_id, "-o", "json")
    out["runs-verify"] = ccops("runs", "verify", "-o", "json")
    out["inventory-validate"] = ccops("inventory", "validate", "-i", example, "-o", "json")
    out["inventory-list"] = ccops("inventory", "list", "-i", fleet, "-o", "json")
    out["inventory-show"] = ccops("inventory", "show", "shapd-aw0-t0001", "-i", example, "-o", "json")
    out["plan"] = ccops("plan", "patch", "-i", example, "--site", "shapd", "-o", "json")
    out["schedule-list"] = ccops("schedule", "list", "-i", example, "-o", "json")
    out["schedule-next"] = ccops("schedule", "next", "-i", example, "--days", "1", "-o", "json")
    out["host-show"] = ccops("host", "show", "aaa-t03", "-i", fleet, "-o", "json")
    out["host-diff"] = ccops("host", "diff", "aaa-t03", "-i", fleet, "-o", "json")
    out["risks"] = ccops("risks", "-i", fleet, "-o", "json")
    out["report"] = ccops("report", "-i", fleet, "-o", "json")
    out["backups-list"] = ccops("backups", "list", "-i", lyo, "-o", "json")
    out["content-list"] = ccops("content", "list", "-i", lyo, "-o", "json")
    out["notify-status"] = ccops("notify", "status", "-o", "json")
    out["image-list"] = ccops("image", "list", "-o", "json")
    out["vulns"] = ccops("vulns", "-i", fleet, "-o", "json")
    fix = ("remediate", "-i", fleet, "--cve", "CVE-2026-0001", "--change-id", "CHG-1", "--dry-run")
    out["remediate"] = ccops(*fix, "-o", "json")
    held = PATCH_SITE.format(code="qtn").replace("  backup_target:", "  management: [127.0.0.1]\n  backup_target:")
    qtn = str(write_inventory(tmp / "qtn", {"qtn.yml": held}))
    hold = ("quarantine", "hold", "qtn-a01", "-i", qtn, "--reason", "test", "--change-id", "CHG-2", "--yes")
    out["quarantine-hold"] = ccops(*hold, "-o", "json")
    out["quarantine-list"] = ccops("quarantine", "list", "-i", qtn, "-o", "json")
    out["quarantine-evaluate"] = ccops("quarantine", "evaluate", "-i", qtn, "-o", "json")
    lift = ("quarantine", "lift", "qtn-a01", "-i", qtn, "--change-id", "CHG-3", "--yes", "-o", "json")
    out["quarantine-lift"] = ccops(*lift)
    for name, verb in VERBS.items():  # a command built from the registry takes the shared options only
        if verb.command and name not in out:
            changing = ("--change-id", "CHG-1", "--yes") if verb.changes_hosts else ()
            out[name] = ccops(name, "-i", lyo, *changing, "-o", "json")
    return out


def test_each_command_json_is_valid_against_its_schema(documents):
    assert set(documents) | set(NOT_RUN_HERE) == set(json_commands())  # every command: run here, or said why not
    for name, text in documents.items():
        validate(name, text)


def test_runs_are_named_run_id_everywhere(documents):
    listed = json.loads(documents["runs-list"])["data"]
    shown = json.loads(documents["runs-show"])["data"]
    patched = json.loads(documents["patch"])["data"]
    assert patched["run_id"] in {r["run_id"] for r in listed} and shown["run_id"] == patched["run_id"]
    assert all("id" not in r for r in [*listed, shown])


def test_field_names_are_snake_case(documents):
    for name, text in documents.items():
        groups = {"$.data", "$.data.*.hostvars"} if name == "inventory-list" else set()  # Ansible's --list
        snake_keys(json.loads(text), "$", DATA_KEYS | groups)


def test_schedule_refusals_are_values_not_keys(documents):
    firings = json.loads(documents["schedule-next"])["data"]
    assert firings and all(isinstance(f["refuses"], list) for f in firings)
    assert all(set(r) == {"reason", "hosts"} for f in firings for r in f["refuses"])
