"""One SSH control folder per batch: no master connection outlives its batch or is shared.

Ansible's ssh plugin keeps a master connection per host open (ControlPersist, 60 s in
ansible.cfg) under ~/.ansible/cp by default. A later run that finds it reuses it and
skips the host key check: a host re-keyed or impersonated within that minute would be
reached through the old connection. Each batch gets its own folder, and its masters are
closed when the batch ends, so every batch's first connection checks the host key.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def batch_control_dir() -> Iterator[Path]:
    # under /tmp and short: a unix socket path must stay below 108 bytes (Ansible adds a 40-character hash)
    folder = Path(tempfile.mkdtemp(prefix="ccops-cp-"))
    try:
        yield folder
    finally:
        for socket_path in folder.iterdir():
            # the host name is not looked at: the control path names the master to close
            subprocess.run(
                ["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "ccops-batch"],
                capture_output=True,
                timeout=15,
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)
