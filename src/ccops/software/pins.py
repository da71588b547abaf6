"""The catalogue files a saved software plan pins (Verb.pins): a changed one refuses the saved plan."""

from __future__ import annotations

import hashlib
from typing import Any

from ccops.software.catalogue import catalogue_files


def catalogue_pins(request: Any) -> dict[str, str]:
    """sha256 of each catalogue file of the request's inventory, labelled by its path in the inventory."""
    root = request.inventory
    return {
        f"catalogue file {p.relative_to(root)}": hashlib.sha256(p.read_bytes()).hexdigest()
        for p in catalogue_files(root)
        if p.is_file()
    }
