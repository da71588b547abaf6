"""A sweep through the real CLI: hostile host answers (at the runner's event seam, tests/cli/sweep_cli.py)
and impossible output targets, tried against every command that prints host data and every file option.

- every command that shows host data: no traceback, no control, escape or bidi character reaches the
  terminal as itself, JSON is strict, a markdown table keeps its shape, a CSV cell is never a formula;
- every file option (report --to, comply --junit and --json): a name that cannot be a file is one
  usage line naming the option, before any work, and nothing the user has is touched.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ccops.hostdata import kinds
from ccops.hostdata.reports import BY_VERB
from tests.cli.test_hostile_hosts import HEALTHY, SITE
from tests.cli.test_inert_outputs import HOSTILE, obeyed
from tests.conftest import run_scripted, write_inventory
from tests.json_output import data_of
from tests.unit.test_catalogue import GOOD

HOSTS = ["tst-a01", "tst-a02", "tst-a03", "tst-r01", "tst-r02"]
FORMULA = '=HYPERLINK("http://x.invalid")'


def _strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    return data_of(json.loads(text, parse_constant=refuse))


class Fleet:
    """ccops with the scripted engine, one inventory and one state folder per test module."""

    def __init__(self, root: Path) -> None:
        self.inv = write_inventory(root / "inv", {"tst.yml": SITE})
        (self.inv / "catalogue").mkdir()
        (self.inv / "catalogue" / "apps.yml").write_text(GOOD)
        self.home, self.hosts_file, self.root = root / "home", root / "hosts.json", root

    def __call__(
        self, *args: str, reports: dict[str, Any] | None = None, extra: list[dict[str, Any]] | None = None
    ) -> subprocess.CompletedProcess[str]:
        answers = {"reports": reports or {}, "extra": extra or []}
        return run_scripted("tests.cli.sweep_cli", self.home, self.hosts_file, answers, *args)


def _hostile_sample(kind: kinds.Kind) -> Any:
    """A document of the schema's own shape with hostile text in every text field and every free key."""
    if isinstance(kind, kinds.Record):
        return {name: _hostile_sample(inner) for name, inner in kind.fields.items()} | {HOSTILE[:60]: HOSTILE}
    if isinstance(kind, kinds.ListOf):
        return [_hostile_sample(kind.item)]
    if isinstance(kind, kinds.MapOf):
        return {HOSTILE[:60] + "pkg": _hostile_sample(kind.value)}
    if isinstance(kind, kinds.Text):
        return (FORMULA + HOSTILE)[: kind.max_len]
    return {kinds.Int: 7, kinds.Num: 7, kinds.Bool: True}.get(type(kind), HOSTILE)


def _inspected() -> dict[str, Any]:
    """A well-typed inspection whose every text is hostile (and one package's version a formula)."""
    report = _hostile_sample(BY_VERB["inspect"])
    report.update(outcome="inspected", collected_at=HEALTHY["collected_at"], reason="")
    report["packages"] = {"count": 2, "items": {"bash": FORMULA + HOSTILE, "softphone": HOSTILE[:200]}}
    report["disks"] = [{"mount": FORMULA + HOSTILE, "size_mb": 1000, "free_mb": 10, "used_pct": 99}]
    return report


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    """Inspections, a comply check, a patch and a decommission whose hosts answered hostile text."""
    fleet = Fleet(tmp_path_factory.mktemp("sweep"))
    inv = str(fleet.inv)
    assert fleet("inspect", "-i", inv, reports=dict.fromkeys(HOSTS, _inspected())).returncode in (0, 2)
    comply = {**_hostile_sample(BY_VERB["comply-check"]), "outcome": "noncompliant"}
    assert fleet("comply", "--check", "-i", inv, reports=dict.fromkeys(HOSTS, comply)).returncode in (0, 2)
    patched = {**_hostile_sample(BY_VERB["patch"]), "outcome": "patched"}
    assert fleet(
        "patch", "-i", inv, "-l", "tst-a01", "--change-id", "CHG-1", "--yes", reports={"tst-a01": patched}
    ).returncode in (0, 2)
    gone = {**_hostile_sample(BY_VERB["decommission"]), "outcome": "decommissioned"}
    args = ("decommission", "-i", inv, "-l", "tst-r01", "--confirm", "tst-r01", "--change-id", "CHG-9")
    assert fleet(*args, reports={"tst-r01": gone}).returncode in (0, 2)
    return fleet


def _run_ids(fleet: Fleet) -> list[str]:
    return [r["run_id"] for r in _strict(fleet("runs", "list", "-o", "json").stdout)]


READERS = [
    ("runs", "list"),
    ("runs", "verify"),
    ("host", "show", "tst-a01", "-i", "{inv}"),
    ("host", "show", "tst-a01", "-i", "{inv}", "--packages"),
    ("host", "show", "tst-r01", "-i", "{inv}"),
    ("risks", "-i", "{inv}"),
    ("report", "-i", "{inv}", "--format", "html"),
    ("report", "-i", "{inv}", "--format", "csv"),
    ("software", "status", "-i", "{inv}"),
    ("content", "list", "-i", "{inv}"),
    ("backups", "list", "-i", "{inv}"),
    ("inventory", "show", "tst-r01", "-i", "{inv}"),
    *(("plan", *verb, "-i", "{inv}", "-o", fmt) for verb in (("patch",), ("software", "apply"), ("decommission",),
      ("comply",)) for fmt in ("text", "markdown")),
]  # fmt: skip
JSON_READERS = [
    ("runs", "list"),
    ("host", "show", "tst-a01", "-i", "{inv}", "--packages"),
    ("risks", "-i", "{inv}"),
    ("software", "status", "-i", "{inv}"),
    ("backups", "list", "-i", "{inv}"),
    *(("plan", *verb, "-i", "{inv}") for verb in (("patch",), ("software", "apply"), ("decommission",), ("comply",))),
]


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_every_reader_of_host_data_keeps_the_terminal_inert(seeded, args):
    result = seeded(*(a.format(inv=seeded.inv) for a in args))
    assert result.returncode == 0, result.stderr
    assert not obeyed(result.stdout + result.stderr)
    if "markdown" in args:  # every row of a table has its header's number of cells
        widths = {}
        for line in result.stdout.splitlines():
            cells = len(re.split(r"(?<!\\)\|", line)) if line.startswith("|") else None
            if cells is None:
                widths = {}
            else:
                widths.setdefault("table", cells)
                assert cells == widths["table"], line


@pytest.mark.parametrize("args", JSON_READERS, ids=" ".join)
def test_every_json_reader_of_host_data_is_strict(seeded, args):
    result = seeded(*(a.format(inv=seeded.inv) for a in args), "-o", "json")
    assert result.returncode == 0, result.stderr
    _strict(result.stdout)
    assert not obeyed(result.stdout)


def test_every_run_of_hostile_hosts_shows_inert_in_text_and_json(seeded):
    for run_id in _run_ids(seeded):
        shown = seeded("runs", "show", run_id)
        assert shown.returncode == 0 and not obeyed(shown.stdout + shown.stderr)
        _strict(seeded("runs", "show", run_id, "-o", "json").stdout)
        certificate = seeded("runs", "certificate", run_id, "tst-r01")
        assert certificate.returncode in (0, 1) and not obeyed(certificate.stdout + certificate.stderr)


def test_no_csv_cell_a_host_controls_is_a_formula(seeded):
    out = seeded("report", "-i", str(seeded.inv), "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert any(FORMULA in cell for row in rows for cell in row)  # the mount is there, as text
    assert not [cell for row in rows for cell in row if cell[:1] in "=+-@\t\r\uff1d\uff0b\uff0d\uff20" and cell]


# ---- events no well-behaved host sends ----------------------------------------------------------------


def _ok(host: str, report: Any) -> dict[str, Any]:
    res = {"ansible_facts": {"ccops_report": report}}
    return {"event": "runner_on_ok", "event_data": {"host": host, "task": "asset", "res": res}}


GARBAGE: list[Any] = [
    "inspected",
    ["inspected"],
    {"outcome": "inspected", "os": ["x"], "disks": "all", "packages": {"count": -5, "items": 7}},
    {"outcome": "inspected", "uptime_seconds": 1e999, "hardware": {"cpus": 10**400, "memory_mb": "²"}},
    {"outcome": "inspected", "logs": [["deep" * 10]] * 5, "__proto__": {"admin": True}, "\x1b[2J": 1},
]


@pytest.mark.parametrize(
    "stranger", ["TST-A01", "tst-a01\n", " tst-a01", "tst-a01\x1b[2J", "not-in-the-inventory", "", "tst-a0*"]
)
def test_a_report_for_a_host_outside_the_batch_touches_no_host(tmp_path, stranger):
    fleet = Fleet(tmp_path)
    extra = [_ok(stranger, g) for g in GARBAGE] + [_ok(stranger, HEALTHY)]
    result = fleet("inspect", "-i", str(fleet.inv), "-o", "json", reports=dict.fromkeys(HOSTS, HEALTHY), extra=extra)
    assert result.returncode == 0, result.stdout + result.stderr
    data = _strict(result.stdout)
    assert {h["host"]: h["outcome"] for h in data["hosts"]} == dict.fromkeys(HOSTS, "ok")
    shown = fleet("host", "show", stranger, "-i", str(fleet.inv))
    assert shown.returncode != 0 and len(shown.stderr.strip().splitlines()) == 1 and not obeyed(shown.stderr)


@pytest.mark.parametrize("garbage", GARBAGE, ids=lambda g: type(g).__name__ + str(len(str(g))))
def test_a_report_sent_twice_is_judged_by_the_last_one_for_that_host_only(tmp_path, garbage):
    fleet = Fleet(tmp_path)
    extra = [_ok("tst-a02", HEALTHY), _ok("tst-a02", garbage)]  # the same event twice, then garbage
    result = fleet("inspect", "-i", str(fleet.inv), "-o", "json", reports=dict.fromkeys(HOSTS, HEALTHY), extra=extra)
    assert result.returncode == 2, result.stdout + result.stderr
    outcomes = {h["host"]: h for h in _strict(result.stdout)["hosts"]}
    assert {h: o["outcome"] for h, o in outcomes.items()} == {**dict.fromkeys(HOSTS, "ok"), "tst-a02": "damaged"}
    assert outcomes["tst-a02"]["message"].startswith("host data damaged: ")
    shown = fleet("host", "show", "tst-a02", "-i", str(fleet.inv), "-o", "json")
    assert shown.returncode == 0, shown.stderr
    _strict(shown.stdout)
    for host in ("tst-a01", "tst-a03"):
        healthy = _strict(fleet("host", "show", host, "-i", str(fleet.inv), "-o", "json").stdout)
        assert "damaged" not in json.dumps(healthy)


@pytest.mark.parametrize(
    "unusable", [{"detail": "no policy"}, {"policy": ["ssh"], "detail": "x"}, {"policy": None}, {}, "ssh", 7]
)
def test_a_deviation_without_a_usable_policy_is_named_and_every_reader_still_works(tmp_path, unusable):
    fleet = Fleet(tmp_path)
    inv = str(fleet.inv)
    fixed = {"outcome": "fixed", "reason": "", "deviations": [], "fixed": [unusable], "policies": ["ssh"]}
    result = fleet(
        "comply", "--fix", "-i", inv, "-l", "tst-a01", "--change-id", "C", "--yes", reports={"tst-a01": fixed}
    )
    assert result.returncode == 2, result.stdout + result.stderr  # damaged, named; the table still printed
    assert "tst-a01" in result.stdout and "host data damaged: fixed[0]" in result.stdout
    noted = {"outcome": "noncompliant", "reason": "", "deviations": [unusable, {"policy": "usb"}], "policies": ["usb"]}
    check = fleet(
        "comply", "--check", "-i", inv, "--junit", str(tmp_path / "j.xml"), reports=dict.fromkeys(HOSTS, noted)
    )
    assert check.returncode == 2, check.stderr
    assert "usb" in (tmp_path / "j.xml").read_text()
    fleet("inspect", "-i", inv, reports=dict.fromkeys(HOSTS, HEALTHY))
    for args in (
        ("risks", "-i", inv),
        ("host", "show", "tst-a01", "-i", inv),
        ("report", "-i", inv, "--format", "csv"),
    ):
        assert fleet(*args).returncode == 0, args


def test_unpaired_surrogates_from_a_host_never_break_a_digest_or_a_record(tmp_path):
    """JSON's "\\ud800" reads as a lone surrogate: the decommission certificate's digest used to fail on it."""
    from tests.unit.test_hostdata_reports import DECOMMISSION

    fleet = Fleet(tmp_path)
    odd = "a\ud800b\udfff"
    report = {**DECOMMISSION, "machine_id": odd, "reason": odd, "extra": {"k" + odd: odd}}
    args = ("decommission", "-i", str(fleet.inv), "-l", "tst-r01", "--confirm", "tst-r01", "--change-id", "C")
    result = fleet(*args, "-o", "json", reports={"tst-r01": report})
    assert result.returncode == 2, result.stdout + result.stderr  # the host's text was mended: damaged, named
    (host,) = _strict(result.stdout)["hosts"]
    assert host["outcome"] == "damaged" and "unpaired surrogates replaced" in host["message"]
    inspected = {**HEALTHY, "logs": [odd], "packages": {"count": 1, "items": {"bash": odd}}}
    assert fleet("inspect", "-i", str(fleet.inv), reports=dict.fromkeys(HOSTS, inspected)).returncode == 2
    for args in (("runs", "verify"), ("host", "show", "tst-a01", "-i", str(fleet.inv), "--packages")):
        assert fleet(*args).returncode == 0, args


def test_a_failure_message_a_host_cannot_encode_still_reaches_the_record(tmp_path):
    fleet = Fleet(tmp_path)
    odd = "x\ud800y\x00z\x1b[2J"
    extra = [
        {"event": "runner_on_failed", "event_data": {"host": "tst-a01", "task": odd, "res": {"msg": odd}}},
        {"event": "runner_on_unreachable", "event_data": {"host": "tst-a02", "res": {"msg": odd}}},
    ]
    result = fleet("inspect", "-i", str(fleet.inv), "-o", "json", reports=dict.fromkeys(HOSTS, HEALTHY), extra=extra)
    assert _strict(result.stdout)["status"] != "error", result.stdout + result.stderr
    (run_id,) = _run_ids(fleet)
    shown = fleet("runs", "show", run_id)
    assert shown.returncode == 0 and "tst-a01" in shown.stdout and not obeyed(shown.stdout)
    assert fleet("runs", "verify").returncode == 0


MANIFESTS = [
    "[1]",
    "NaN",
    '"text"',
    "{",
    '{"a":' * 3000 + "1" + "}" * 3000,  # nested past Python's recursion limit
    json.dumps({"verified": True, "created": ["2026"], "size": -5, "sha256": {"x": 1}, "paths": "/"}),
    json.dumps({"verified": "yes", "created": HOSTILE, "phase": HOSTILE, "change_id": FORMULA, "damaged": []}),
]


def test_backup_manifests_on_the_share_are_host_data(tmp_path):
    """The share's manifest.json files were written by the hosts: any shape lists as an unverified backup."""
    fleet = Fleet(tmp_path)
    share = tmp_path / "share"
    site = fleet.inv / "sites" / "tst.yml"
    site.write_text(site.read_text().replace("/var/tmp/ccops-hostile-hosts", str(share)))
    for n, text in enumerate(MANIFESTS):
        folder = share / "tst-a01" / f"20260101T00000{n}Z-aaaaaa"
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text(text)
    shown = fleet("backups", "list", "-i", str(fleet.inv))
    assert shown.returncode == 0, shown.stderr
    assert not obeyed(shown.stdout + shown.stderr)
    listed = _strict(fleet("backups", "list", "tst-a01", "-i", str(fleet.inv), "-o", "json").stdout)
    assert len(listed) == len(MANIFESTS) and not any(b.get("verified") for b in listed)
    assert all(b["host"] == "tst-a01" and b["id"].startswith("20260101T") for b in listed)


# ---- output targets: every file option ----------------------------------------------------------------


def _file_options(fleet: Fleet, target: str) -> list[tuple[str, ...]]:
    inv = str(fleet.inv)
    return [
        ("report", "-i", inv, "--format", "html", "--to", target),
        ("comply", "--check", "-i", inv, "--junit", target),
        ("comply", "--check", "-i", inv, "--json", target),
    ]


@pytest.fixture
def targets(tmp_path: Path) -> Path:
    (tmp_path / "kept.txt").write_text("the user's file\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link-to-folder").symlink_to(tmp_path / "folder")
    return tmp_path


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("kept.txt/", "names a folder that does not exist"),  # the slash says folder: never the file kept.txt
        ("kept.txt/report", "kept.txt is not a folder"),
        ("new/", "names a folder that does not exist"),  # never a file called "new"
        ("missing/report", "no such folder"),
        ("folder", "is a folder"),
        ("link-to-folder", "is a folder"),
        ("", "is empty"),
    ],
)
def test_a_name_that_cannot_be_a_file_is_one_line_before_any_work(tmp_path, targets, name, message):
    fleet = Fleet(tmp_path / "fleet")
    target = f"{targets}/{name}" if name else ""
    for args in _file_options(fleet, target):
        result = fleet(*args)
        assert result.returncode == 64, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and args[-2] in lines[0], lines
        assert not (fleet.home / "ccops.db").exists() or not _run_ids(fleet)  # refused before any run
    assert (targets / "kept.txt").read_text() == "the user's file\n"
    assert sorted(p.name for p in targets.iterdir()) == ["fleet", "folder", "kept.txt", "link-to-folder"]
