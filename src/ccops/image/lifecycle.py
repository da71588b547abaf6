"""Moving a deployed host's lifecycle in its site file (planned -> active).

The inventory writer (ccops.inventory.writer.set_host_fields: a small,
reviewable diff that keeps comments and layout) is used when it is there;
until then a minimal stand-in edits the per-host entry of a site file laid
out as `hosts: {NAME: {...}}` (as the lab writes it), and checks the result.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ccops.errors import CcopsError
from ccops.inventory.load import load_inventory
from ccops.inventory.model import Inventory


def set_host_fields(inventory: Inventory, host: str, fields: dict[str, str | int]) -> Path:
    try:
        from ccops.inventory import writer  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return _set_host_fields(inventory, host, fields)
    path: Path = writer.set_host_fields(inventory, host, fields)
    return path


def _set_host_fields(inventory: Inventory, host: str, fields: dict[str, str | int]) -> Path:
    path = Path(inventory.hosts[host].source[0])
    if not path.is_absolute():
        path = inventory.root / path
    lines = path.read_text().splitlines(keepends=True)
    try:
        start = lines.index("hosts:\n")
        entry = next(i for i in range(start + 1, len(lines)) if lines[i] == f"  {host}:\n")
    except (ValueError, StopIteration):
        raise CcopsError(f"{path}: no `hosts: {host}:` entry to edit") from None
    end = next((i for i in range(entry + 1, len(lines)) if not lines[i].startswith("    ")), len(lines))
    for key, value in fields.items():
        text = f"    {key}: {value}\n"
        at = next((i for i in range(entry + 1, end) if re.match(rf"    {key}:", lines[i])), None)
        if at is None:
            lines.insert(end, text)
            end += 1
        else:
            lines[at] = text
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(lines))
    os.chmod(tmp, path.stat().st_mode & 0o777)  # noqa: PTH101
    backup = path.read_text()
    Path(tmp).replace(path)
    try:
        load_inventory(inventory.root)
    except CcopsError:
        path.write_text(backup)
        raise
    return path
