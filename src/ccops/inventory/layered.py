"""A dict built from layers that share no key: what each host's Ansible variables are.

Every host's variables are its site's variables, its own, and its connection profile's;
the first and the last are the same objects for thousands of hosts. A Layered dict is
an ordinary dict (its items in layer order) that also keeps its layers, so a writer that
knows it (ccops.cli.output) can write a shared layer once instead of once per host.
"""

from __future__ import annotations

from typing import Any


class Layered(dict[str, Any]):
    """Made by layered() and never changed after (a writer checks only that its size still matches)."""

    layers: tuple[dict[str, Any], ...] = ()


def layered(*layers: dict[str, Any]) -> dict[str, Any]:
    """The layers merged in order; a Layered dict when no key is in two layers (else a plain one)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    if len(merged) != sum(len(layer) for layer in layers):
        return merged  # a later layer overrides an earlier key: only the plain merge is exact
    out = Layered(merged)
    out.layers = layers
    return out
