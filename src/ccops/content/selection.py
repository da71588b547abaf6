"""Which updates a snapshot holds: from each host's own `apt-get --simulate dist-upgrade`.

A host reports the lines apt would install (``Inst NAME [OLD] (NEW ORIGIN:VERSION/ARCHIVE, ... [ARCH])``).
A snapshot takes, per Debian release, the upgrades of installed packages that come
from the release's ``-security`` or ``-updates`` suites, and the new packages such
an upgrade pulls in (dist-upgrade installs nothing new for any other reason).
Upgrades only offered elsewhere (a point release, backports) are left out and named.
Host reports are untrusted: names and versions must look like Debian's before they
reach an argv on another host.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cmp_to_key

from ccops.errors import CcopsError

PACKAGE_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]{0,127}")
PACKAGE_VERSION = re.compile(r"[0-9][A-Za-z0-9.+~:-]{0,127}")
SUITES = ("-security", "-updates")
# trailing "[a:amd64 on b:amd64] [a:amd64 ]" name packages the step breaks for a moment: not needed here
_INST = re.compile(r"^Inst (\S+)(?: \[([^\]]+)\])? \((\S+) (.*?)(?: \[([^\]]+)\])?\)(?: \[[^\]]*\])*\s*$")


@dataclass(frozen=True)
class Update:
    package: str
    version: str  # the version the host would get
    installed: str  # the version it has, '' for a new package an update needs
    archives: tuple[str, ...]  # where apt would take it from (stable-security, bullseye-updates, ...)

    @property
    def suite(self) -> str:
        """The -security or -updates archive it comes from, or '' when it comes from neither."""
        return next((a for a in self.archives if a.endswith(SUITES)), "")


@dataclass
class HostNeeds:
    """What one host needs from a snapshot, and what it would get elsewhere that a snapshot leaves out."""

    selected: dict[str, Update] = field(default_factory=dict)
    left_out: dict[str, Update] = field(default_factory=dict)


def parse_simulation(lines: Iterable[str]) -> list[Update]:
    """The Inst lines of `apt-get --simulate dist-upgrade` (LC_ALL=C); anything malformed is refused."""
    out = []
    for line in lines:
        if not line.startswith("Inst "):
            continue
        match = _INST.match(line)
        if match is None:
            raise CcopsError(f"unexpected line from apt: {line[:400]!r}")
        name, old, new, origins, _arch = match.groups()
        if not PACKAGE_NAME.fullmatch(name) or not PACKAGE_VERSION.fullmatch(new):
            raise CcopsError(f"not a Debian package name and version: {name[:60]!r} {new[:60]!r}")
        if old is not None and not PACKAGE_VERSION.fullmatch(old):
            raise CcopsError(f"not a Debian version: {old[:60]!r} ({name})")
        archives = tuple(o.rsplit("/", 1)[1] for o in origins.split(", ") if "/" in o)
        out.append(Update(name, new, old or "", archives))
    return out


def host_needs(updates: Iterable[Update]) -> HostNeeds:
    needs = HostNeeds()
    for update in updates:
        wanted = update.suite or not update.installed  # a new package exists only because an update needs it
        (needs.selected if wanted else needs.left_out)[update.package] = update
    return needs


def release_packages(per_host: Mapping[str, HostNeeds]) -> dict[str, str]:
    """One version per package for a release's hosts: the newest any of them was offered."""
    out: dict[str, str] = {}
    for needs in per_host.values():
        for name, update in needs.selected.items():
            if name not in out or compare_versions(update.version, out[name]) > 0:
                out[name] = update.version
    return dict(sorted(out.items()))


def compare_versions(a: str, b: str) -> int:
    """Debian's version order, by dpkg itself (argv, no shell; both were checked against PACKAGE_VERSION)."""
    if a == b:
        return 0
    for op, result in (("gt", 1), ("lt", -1)):
        if subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False).returncode == 0:
            return result
    return 0


def sort_versions(versions: Iterable[str]) -> list[str]:
    return sorted(versions, key=cmp_to_key(compare_versions))
