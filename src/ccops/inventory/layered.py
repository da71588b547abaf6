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
    own: int = -1  # the layer only this dict has (a writer does not keep its text for another), or -1


def layered(*layers: dict[str, Any], own: int = -1) -> dict[str, Any]:
    """The layers merged in order; a Layered dict when no key is in two layers (else a plain one).

    ``own`` names the layer no other dict shares (a host's own variables), if any.
    """
    out = Layered()
    for layer in layers:
        out.update(layer)
    if len(out) != sum(map(len, layers)):
        return dict(out)  # a later layer overrides an earlier key: only the plain merge is exact
    out.layers = layers
    out.own = own
    return out
