"""Reading what ccops prints with -o json: one envelope ({schema, ccops, data}), its data the answer."""

from __future__ import annotations

import json
from typing import Any


def payload(text: str, **options: Any) -> Any:
    """The ``data`` of a ccops JSON document, its envelope checked (options go to json.loads)."""
    document = json.loads(text, **options)
    assert isinstance(document, dict) and set(document) == {"schema", "ccops", "data"}, text[:300]
    assert document["schema"].startswith("ccops/"), document["schema"]
    return document["data"]


def data_of(document: Any) -> Any:
    """A ccops JSON document's data: an envelope's ``data``; a file ccops writes in its own format as it is."""
    if isinstance(document, dict) and set(document) == {"schema", "ccops", "data"}:
        return document["data"]
    return document


def ansible_plain(value: Any) -> Any:
    """ansible-inventory marks untrusted strings as {'__ansible_unsafe': ...}: read them as plain values."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: ansible_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [ansible_plain(v) for v in value]
    return value
