"""systemd timer and service units for an inventory's schedules (no scheduler of ccops's own).

Each schedule gets ``ccops-schedule-NAME.timer`` (OnCalendar= in the site's zone,
Persistent=true: a firing missed while the jump host was off runs once at boot,
never a backlog) and ``ccops-schedule-NAME.service`` (oneshot: systemd never starts
a unit that is still running, and the firing's own lock refuses a second one).
ExecStart is ``ccops schedule run NAME -i INVENTORY``, every word quoted for systemd.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ccops.errors import CcopsError
from ccops.inventory.model import Inventory
from ccops.paths import state_dir
from ccops.schedule.model import NAME_PATTERN, Schedule
from ccops.schedule.timing import on_calendar

SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
PREFIX = "ccops-schedule-"
MARKER = "# Written by ccops schedule install; ccops schedule remove deletes it."
OWNER = "# Inventory: "  # the second line: whose schedule it is (two inventories on one jump host never mix)
USER_PATTERN = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
SYSTEMCTL_TIMEOUT = 120


@dataclass(frozen=True)
class Unit:
    name: str
    text: str


@dataclass(frozen=True)
class Installed:
    path: Path
    inventory: str | None  # None: written before units named their inventory


def inventory_folder(inventory: Inventory) -> str:
    folder = os.path.abspath(inventory.root)  # noqa: PTH100 - the timer runs from / : anchor the path as named
    _refuse_controls(folder)
    return folder


def units_for(inventory: Inventory, schedules: dict[str, Schedule], ccops: Path, user: str | None) -> list[Unit]:
    out = []
    for schedule in schedules.values():
        if not NAME_PATTERN.fullmatch(schedule.name):  # model checked it; a unit name is never guessed at
            raise CcopsError(f"schedule name {schedule.name[:60]!r} cannot name a unit")
        calendars = on_calendar(schedule, inventory.sites[schedule.site])
        if not calendars:
            raise CcopsError(
                f"{schedule.file}:{schedule.line}: schedule {schedule.name} fires when the window opens, "
                f"but site {schedule.site} declares no maintenance window"
            )
        out.append(Unit(f"{PREFIX}{schedule.name}.service", _service(schedule, inventory, ccops, user)))
        out.append(Unit(f"{PREFIX}{schedule.name}.timer", _timer(schedule, inventory, calendars)))
    return out


def _service(schedule: Schedule, inventory: Inventory, ccops: Path, user: str | None) -> str:
    folder = inventory_folder(inventory)
    argv = [str(ccops), "schedule", "run", schedule.name, "-i", folder]
    lines = [
        MARKER,
        OWNER + folder,
        "[Unit]",
        f"Description=ccops schedule {schedule.name}",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=oneshot",
        "ExecStart=" + " ".join(exec_word(word) for word in argv),
        "Environment=" + env_word("CCOPS_HOME", str(state_dir())),
        "Environment=" + env_word("PATH", f"{ccops.parent}:/usr/local/bin:/usr/bin:/bin"),
    ]
    if user is not None:
        lines.append(f"User={user}")
    return "\n".join(lines) + "\n"


def _timer(schedule: Schedule, inventory: Inventory, calendars: list[str]) -> str:
    lines = [
        MARKER,
        OWNER + inventory_folder(inventory),
        "[Unit]",
        f"Description=ccops schedule {schedule.name} ({schedule.run}, {schedule.when()})",
        "",
        "[Timer]",
        *(f"OnCalendar={calendar}" for calendar in calendars),
        "Persistent=true",
        "",
        "[Install]",
        "WantedBy=timers.target",
    ]
    return "\n".join(lines) + "\n"


def _refuse_controls(text: str) -> None:
    if any(not c.isprintable() for c in text):
        raise CcopsError(f"{text[:60]!r} holds a control character; it cannot go into a systemd unit")


def exec_word(text: str) -> str:
    """One ExecStart= word: quoted, C escapes, and no specifier (%) or variable ($) expansion."""
    _refuse_controls(text)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def env_word(name: str, value: str) -> str:
    """One Environment= assignment, quoted (Environment= expands specifiers, not variables)."""
    _refuse_controls(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{name}={escaped}"'


def ccops_executable() -> Path:
    """The ccops of this installation: the timer runs the same ccops that wrote it."""
    beside = Path(sys.executable).parent / "ccops"
    found = beside if beside.is_file() else (Path(shutil.which("ccops") or "") if shutil.which("ccops") else None)
    if found is None or not found.is_absolute():
        raise CcopsError("cannot find the ccops executable to put in the service units")
    return found


def unit_user() -> str:
    user = getpass.getuser()
    if not USER_PATTERN.fullmatch(user):
        raise CcopsError(f"user name {user[:40]!r} cannot be written into a unit's User=")
    return user


def is_system_dir(unit_dir: Path) -> bool:
    return unit_dir.resolve() == SYSTEM_UNIT_DIR.resolve()


def installed(unit_dir: Path) -> list[Installed]:
    """Units in ``unit_dir`` that ccops wrote (by name and marker), each with its inventory."""
    if not unit_dir.is_dir():
        return []
    found = []
    for path in sorted(unit_dir.glob(f"{PREFIX}*")):
        if path.suffix in (".timer", ".service") and path.is_file() and not path.is_symlink():
            with path.open(encoding="utf-8", errors="replace") as handle:
                first, second = handle.readline().rstrip("\n"), handle.readline().rstrip("\n")
            if first == MARKER:
                owner = second[len(OWNER) :] if second.startswith(OWNER) else None
                found.append(Installed(path, owner))
    return found


def ours(unit_dir: Path, inventory: Inventory | None = None) -> list[Path]:
    """The units ccops wrote (of one inventory, with units older than the inventory line): the only ones it removes."""
    folder = None if inventory is None else inventory_folder(inventory)
    return [u.path for u in installed(unit_dir) if folder is None or u.inventory in (None, folder)]


def refuse_collisions(unit_dir: Path, inventory: Inventory, units: list[Unit]) -> None:
    """A schedule named like another inventory's installed one would replace it: one line, nothing written."""
    folder = inventory_folder(inventory)
    names = {u.name for u in units}
    for unit in installed(unit_dir):
        if unit.path.name in names and unit.inventory not in (None, folder):
            raise CcopsError(
                f"{unit.path}: a schedule of that name is installed for inventory {unit.inventory}; "
                "rename this one, or run ccops schedule remove -i for that inventory first"
            )


def write_units(unit_dir: Path, units: list[Unit]) -> list[Path]:
    written = []
    try:
        unit_dir.mkdir(parents=True, exist_ok=True)
        for unit in units:
            path = unit_dir / unit.name
            tmp = unit_dir / f".{unit.name}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(unit.text)
            tmp.chmod(0o644)  # systemd reads units whatever the operator's umask
            tmp.replace(path)
            written.append(path)
    except OSError as exc:
        raise CcopsError(f"{exc.filename or unit_dir}: cannot write the unit ({exc.strerror})") from None
    return written


def delete(path: Path) -> None:
    try:
        path.unlink()
    except OSError as exc:
        raise CcopsError(f"{path}: cannot remove the unit ({exc.strerror})") from None


def retire(paths: list[Path], system: bool) -> None:
    """Stop the timers among ``paths`` (only when they are the system's units), then delete every one."""
    timers = [p.name for p in paths if p.suffix == ".timer"]
    if system and timers:
        systemctl("disable", "--now", *timers)
    for path in paths:
        delete(path)


def systemctl(*args: str) -> None:
    command = [shutil.which("systemctl") or "/usr/bin/systemctl", *args]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=SYSTEMCTL_TIMEOUT, check=False)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise CcopsError(f"systemctl {' '.join(args)} failed: {detail[-1] if detail else proc.returncode}")
