"""Test applications the project builds itself (dpkg-deb), so install, upgrade and rollback are real.

``ccops-softphone`` is a small agent: a systemd service answering its version on
a TCP port. 1.0 and 2.0 are healthy; 2.1 reads a configuration format it does
not understand and exits, so its health check fails. Built into a cache folder
at run time, never committed as binaries.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

SOFTPHONE = "ccops-softphone"
SOFTPHONE_PORT = 5070
SOFTPHONE_VERSIONS = ("1.0", "2.0", "2.1")
BROKEN = {"2.1"}  # starts, then exits: the health check must fail

_PROGRAM = """#!/usr/bin/python3
# ccops-softphone {version}: answers its version on the configured TCP port.
import socketserver
import sys

conf = dict(line.strip().split("=", 1) for line in open("/etc/ccops-softphone/softphone.conf") if "=" in line)
if {broken}:
    sys.exit("ccops-softphone {version}: configuration format 3 expected, found 2")


class Answer(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"ccops-softphone {version}\\n")


socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(("0.0.0.0", int(conf.get("PORT", "{port}"))), Answer) as server:
    server.serve_forever()
"""

_UNIT = """[Unit]
Description=ccops test softphone agent
After=network.target

[Service]
ExecStart=/usr/lib/ccops-softphone/softphone
Restart=no

[Install]
WantedBy=multi-user.target
"""

_CONTROL = """Package: ccops-softphone
Version: {version}
Architecture: all
Maintainer: ccops <ccops@localhost>
Depends: python3
Section: misc
Priority: optional
Description: ccops test softphone agent {version}
 Answers its version on TCP port {port}; built by ccops for the lab.
"""

# postinst and prerm: the service follows the package (no deb-systemd-helper needed)
_POSTINST = (
    "#!/bin/sh\nset -e\nsystemctl daemon-reload || true\nsystemctl enable ccops-softphone.service || true\n"
    "systemctl restart ccops-softphone.service || true\n"
)
_PRERM = "#!/bin/sh\nset -e\nsystemctl stop ccops-softphone.service || true\n"
_POSTRM = '#!/bin/sh\nset -e\nif [ "$1" = purge ]; then systemctl daemon-reload || true; fi\n'


def deb_name(version: str) -> str:
    return f"{SOFTPHONE}_{version}_all.deb"


def build_softphone(cache: Path, version: str) -> Path:
    """Build one version into ``cache`` (kept when already built) and return the .deb."""
    out = cache / deb_name(version)
    if out.is_file():
        return out
    if shutil.which("dpkg-deb") is None:
        from ccops.errors import CcopsError

        raise CcopsError("dpkg-deb is needed to build the test applications: run scripts/setup")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ccops-deb-") as tmp:
        root = Path(tmp) / "root"
        files = {
            "DEBIAN/control": (_CONTROL.format(version=version, port=SOFTPHONE_PORT), 0o644),
            "DEBIAN/conffiles": ("/etc/ccops-softphone/softphone.conf\n", 0o644),
            "DEBIAN/postinst": (_POSTINST, 0o755),
            "DEBIAN/prerm": (_PRERM, 0o755),
            "DEBIAN/postrm": (_POSTRM, 0o755),
            "etc/ccops-softphone/softphone.conf": (f"# ccops-softphone settings\nPORT={SOFTPHONE_PORT}\n", 0o644),
            "usr/lib/systemd/system/ccops-softphone.service": (_UNIT, 0o644),
            "usr/lib/ccops-softphone/softphone": (
                _PROGRAM.format(version=version, port=SOFTPHONE_PORT, broken=version in BROKEN),
                0o755,
            ),
        }
        for name, (text, mode) in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            path.chmod(mode)
        for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
            folder.chmod(0o755)  # the build runs under umask 077; packaged folders are world-readable
        partial = out.with_suffix(".partial")
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(partial)],
            check=True,
            capture_output=True,
        )
        partial.replace(out)
    return out


def build_all(cache: Path) -> dict[str, Path]:
    return {version: build_softphone(cache, version) for version in SOFTPHONE_VERSIONS}
