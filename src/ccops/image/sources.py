"""The build machine's own Debian sources, re-aimed at another release.

Golden images and the lab's images are built from whatever mirror this
machine's apt uses; no mirror's host name is ever written into the project.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from ccops.errors import CcopsError

APT = Path("/etc/apt")


def machine_uris(apt_dir: Path = APT) -> tuple[str, str | None]:
    """(archive URI, security URI) from this machine's apt sources."""
    archive = security = None
    for suites, uri in _entries(apt_dir):
        if any(s.endswith("-security") for s in suites):
            security = security or uri
        elif "debian" in uri or archive is None:
            archive = archive or uri
    if archive is None:
        raise CcopsError(f"no Debian source found under {apt_dir}; images are built from the machine's own sources")
    return archive, security


def _entries(apt_dir: Path) -> Iterator[tuple[list[str], str]]:
    """(suites, first URI) of each deb822 stanza that offers binary packages."""
    for path in sorted(apt_dir.glob("sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text()):
            fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.MULTILINE))
            if "deb" in fields.get("Types", "").split() and fields.get("URIs"):
                yield fields.get("Suites", "").split(), fields["URIs"].split()[0]
    lists = [apt_dir / "sources.list", *sorted(apt_dir.glob("sources.list.d/*.list"))]
    for path in lists:
        if path.exists():
            for line in path.read_text().splitlines():
                parts = re.sub(r"\[[^\]]*\]", "", line).split()
                if len(parts) >= 3 and parts[0] == "deb":
                    yield [parts[2]], parts[1]


def deb822(uri: str, suites: list[str]) -> str:
    return (
        f"Types: deb\nURIs: {uri}\nSuites: {' '.join(suites)}\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )


def build_sources(suite: str) -> str:
    """Only the release itself: what the image is installed from."""
    return deb822(machine_uris()[0], [suite])


def image_sources(suite: str) -> str:
    """What the image keeps: release, -updates and -security, so updates are pending."""
    archive, security = machine_uris()
    text = deb822(archive, [suite, f"{suite}-updates"])
    if security:
        text += "\n" + deb822(security, [f"{suite}-security"])
    return text
