"""Ansible templates every string it is handed as an extra variable, whatever its origin.

Inventory values are refused at parse time (inventory/yamldoc.py); this guards the
rest: what an operator or a pipeline types (a change id, a reason, an application
name) and what ccops computes from a catalogue or a host's report, at the one
door through which all of them reach a playbook.
"""

from __future__ import annotations

from typing import Any

from ccops.errors import UsageError

# "#jinja2:" at the start of a string changes Jinja2's delimiters: it marks a template too
TEMPLATE_MARKS = ("{{", "{%", "{#", "#jinja2:")


def is_templated(text: str) -> bool:
    return any(mark in text for mark in TEMPLATE_MARKS)


def templated_at(value: Any, where: str) -> str | None:
    """The dotted place of the first string (or mapping key) in ``value`` Ansible would template."""
    if isinstance(value, str):
        return where if is_templated(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            place = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and is_templated(key):
                return place
            if found := templated_at(item, place):
                return found
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if found := templated_at(item, f"{where}[{index}]"):
                return found
    return None


def refuse_templates(extravars: dict[str, Any]) -> dict[str, Any]:
    """``extravars`` unchanged, or a usage error naming the value that would be templated."""
    if found := templated_at(extravars, ""):
        raise UsageError(f"{found}: a value holding {'/'.join(TEMPLATE_MARKS)} would be templated by Ansible; "
                         "ccops hands playbooks data, never templates")  # fmt: skip
    return extravars
