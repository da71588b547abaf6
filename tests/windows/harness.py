"""Contract-test harness for the Windows half: the real playbooks and roles, run by
ansible-playbook against a seat modelled on the controller.

No Windows host runs here. The ansible.windows modules are replaced by the
stand-ins in tests/windows/collections (placed first on the collection path):
each checks its arguments against the real module's option names, answers in
the shape the real module documents, from a small model of one seat (packages,
hotfixes, UWF, Deep Freeze, services; writes made while a filter protects the
seat are gone at the next boot), and logs the call. Tests assert what was done
and in which order. These are contract tests, not runs on Windows.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.conftest import BIN, ROOT

HERE = Path(__file__).resolve().parent
# the ccops tree whose playbooks run (another checkout to show a test fails on older code)
PROJECT = Path(os.environ.get("CCOPS_CONTRACT_PROJECT", ROOT))
SECRET = "df-cmdline-S3cret"
LCU = "Package_for_RollupFix~31bf3856ad364e35~amd64~~22621.4317.1.9"
SSU = "Package_for_ServicingStack_4310~31bf3856ad364e35~amd64~~22621.4310.1.0"
BASE_PACKAGE = "Package_for_KB5027397~31bf3856ad364e35~amd64~~22621.1.1.0"  # on the seat before any patch
TITLE = "2024-10 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems (KB5044285)"
APP_PATH = "C:\\ProgramData\\Contoso\\Softphone"
OTHER_APP_PATH = "D:\\Contoso\\Softphone"  # the same leaf name as APP_PATH
MACHINE = "S-1-5-21-1111111111-2222222222-3333333333"  # the seat's own SID prefix (local accounts)
DOMAIN_SID = "S-1-5-21-7777777777-8888888888-9999999999"

# A Windows 11 seat with one pending monthly update: a combined SSU + LCU package.
BASE_STATE: dict = {
    "boot": 1,
    "free_mb": 40000,
    "settle_polls": 0,
    "settling_polls": 0,
    "packages": [BASE_PACKAGE],
    "hotfixes": ["KB5027397"],
    "package_kbs": {},
    "uwf": None,
    "deepfreeze": None,
    "pending_updates": [
        {
            "id": "6d4e3a9c-1b2f-4c41-9a57-0f8e2d6b1a11",
            "kb": ["5044285"],
            "title": TITLE,
            "categories": ["Security Updates", "Windows 11"],
            "packages": [SSU, LCU],
            "reboot": True,
        }
    ],
    "paths": {APP_PATH: "softphone settings before the patch", OTHER_APP_PATH: "data drive settings before"},
    "services": {"WinRM": {}, "ContosoSoftphone": {}},
}


def local_user(rid: int, enabled: bool = True, full_name: str = "") -> dict:
    """A local account in a seat's model (comply and decommission seats)."""
    return {"sid": f"{MACHINE}-{rid}", "enabled": enabled, "full_name": full_name, "password": ""}


def seat_state(**changes) -> dict:
    state = copy.deepcopy(BASE_STATE)
    state.update(changes)
    return state


@dataclass
class Run:
    """One seat's view of a contract run: its calls in order, its model's state, its task results."""

    host: str
    rc: int
    output: dict
    calls: list[dict]
    state: dict
    root: Path
    stdout: str

    def ops(self) -> list[str]:
        return [c["op"] for c in self.calls]

    def index(self, op: str, start: int = 0) -> int:
        """Position of the first call of op at or after start."""
        return next(i for i, c in enumerate(self.calls) if i >= start and c["op"] == op)

    def tasks(self) -> list[tuple[str, dict]]:
        return [
            (t["task"]["name"], t["hosts"][self.host])
            for play in self.output["plays"]
            for t in play["tasks"]
            if self.host in t["hosts"]
        ]

    def report(self) -> dict | None:
        reports = [
            res["ansible_facts"]["ccops_report"]
            for _, res in self.tasks()
            if "ccops_report" in (res.get("ansible_facts") or {})
        ]
        return reports[-1] if reports else None

    def failure(self) -> str:
        failed = [res.get("msg", "") for _, res in self.tasks() if res.get("failed")]
        return failed[-1] if failed else ""

    def outcome(self) -> str:
        stats = self.output["stats"][self.host]
        return "failed" if stats["failures"] else ("rescued" if stats["rescued"] else "ok")

    def files(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.name not in ("state.json", "calls.jsonl"))


def run_contract(
    work: Path,
    playbook: str,
    action: str,
    seats: dict[str, tuple[dict, dict]],
    extravars: dict | None = None,
    *,
    fresh: bool = True,
    kill_when_hanging: bool = False,
) -> dict[str, Run]:
    """Run one playbook against modelled seats, {name: (state, hostvars)}, each in work/name
    (its model kept from an earlier run when fresh=False). Seats run side by side (forks).
    kill_when_hanging: the controller is killed once every seat hangs at its state's hang_at call."""
    hosts = {}
    for name, (state, hostvars) in seats.items():
        root = work / name
        if fresh or not root.exists():
            root.mkdir(parents=True, exist_ok=True)
            (root / "state.json").write_text(json.dumps(state))
        (root / "calls.jsonl").write_text("")
        hosts[name] = {
            "ansible_connection": "fakewin",
            "ccops_contract_root": str(root),
            "ansible_python_interpreter": str(BIN / "python"),
            "ansible_host": f"{name}.cc.example",
            "ccops_site": "shapd",
            "ccops_os": "win11",
            "ccops_os_family": "windows",
            "ccops_lifecycle": "active",
            "ccops_role": "agent_desktop",
            "ccops_busy_check": {},
            "ccops_backup_target": {"path": str(work / "backups")},
            "backup_paths": [APP_PATH],
            "patch_health_services": ["WinRM", "ContosoSoftphone"],
            "patch_win_health_settle_delay": 0,
            **hostvars,
        }
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    inventory = work / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    variables = {
        "ccops_run_id": "r20261123-0001",
        "ccops_action": action,
        "ccops_change_id": "CHG-2001",
        **(extravars or {}),
    }
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "json",
        "ANSIBLE_COLLECTIONS_PATH": str(HERE / "collections"),
        "ANSIBLE_CONNECTION_PLUGINS": str(HERE / "plugins" / "connection"),
        "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(work / "tmp"),
        "ANSIBLE_PIPELINING": "True",
        # a module killed at its hanging marker leaves its unpacked payload behind: in the test's folder
        "TMPDIR": str(work / "tmp"),
        "CCOPS_DEEPFREEZE_PASSWORD": SECRET,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), f"playbooks/{playbook}", "-e", json.dumps(variables)]
    if kill_when_hanging:
        proc = _run_until_hanging(argv, env, [work / name / "hanging" for name in seats])
        output = {"plays": [], "stats": {}}
    else:
        proc = subprocess.run(argv, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600, check=False)
    try:
        output = output if kill_when_hanging else json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(
            f"no JSON from ansible-playbook (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        ) from exc
    runs = {}
    for name in seats:
        root = work / name
        calls = [json.loads(line) for line in (root / "calls.jsonl").read_text().splitlines()]
        runs[name] = Run(
            name,
            proc.returncode,
            output,
            calls,
            json.loads((root / "state.json").read_text()),
            root,
            proc.stdout + proc.stderr,
        )
    return runs


def _kill_session(controller: int) -> None:
    """Kill the controller and everything it started, as a lost jump host would lose them.

    Ansible's workers start sessions of their own, so neither the controller's process group
    nor its session reaches them: they are found as its descendants, before anything is killed.
    """
    doomed = {controller} | _descendants(controller)
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _run_until_hanging(argv: list[str], env: dict, markers: list[Path]) -> subprocess.CompletedProcess:
    """Start ansible-playbook, wait until every seat's stand-in says it hangs, then kill the
    controller with all its workers, as a lost jump host would be."""
    proc = subprocess.Popen(
        argv, cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 240
    while not all(m.exists() for m in markers):
        if proc.poll() is not None or time.monotonic() > deadline:
            _kill_session(proc.pid)
            out, err = proc.communicate()
            raise AssertionError(f"the run ended before every seat hung (rc {proc.returncode}):\n{out[-3000:]}\n{err}")
        time.sleep(0.2)
    _kill_session(proc.pid)
    out, err = proc.communicate()
    for marker in markers:
        marker.unlink()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)
