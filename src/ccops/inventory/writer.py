"""The one inventory writer: change a host's fields in its site file as a small text edit.

ccops changes a host's state itself (decommission: ``lifecycle: retired`` and the date; image
deployment: ``planned`` to ``active``). The edit is made in the text, at the places the YAML
parser marks, so comments, quoting and layout stay and a pull request shows only the state
lines. The whole inventory is validated with the edit before the file is replaced atomically
(temporary file, fsync, rename); a file edited meanwhile is refused, never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ccops.errors import CcopsError, InventoryError
from ccops.inventory.load import _label, check_inventory
from ccops.inventory.model import Inventory
from ccops.inventory.site_file import OVERRIDE_KEYS
from ccops.inventory.yamldoc import Problem

# scalar per-host fields the writer may set (vars: is the site's own business)
WRITABLE = tuple(k for k in OVERRIDE_KEYS if k != "vars")
_PLAIN = re.compile(r"[a-z][a-z0-9_]*(-[a-z0-9_]+)*")
# words YAML 1.1 reads as booleans or null: always quoted
_YAML11_WORDS = frozenset(["y", "n", "yes", "no", "on", "off", "true", "false", "null"])


class WriteRefused(CcopsError):
    """The site file cannot be edited safely; the message is FILE:LINE: why."""


def set_host_fields(inventory: Inventory, host: str, fields: dict[str, str | int]) -> Path:
    """Set ``fields`` in ``host``'s per-host entry of its site file; the file's path is returned.

    A host declared only by a group (a range) gets an entry under ``hosts:``. Refused, file
    untouched: an unknown field, a layout the writer cannot edit in place, an edit that makes
    the inventory invalid, a site file changed since ``inventory`` was loaded.
    """
    unknown = sorted(set(fields) - set(WRITABLE))
    if unknown:
        raise CcopsError(f"cannot set {', '.join(unknown)} on a host; the writer sets: {', '.join(WRITABLE)}")
    target = inventory.host(host)
    path = _site_path(inventory, inventory.sites[target.site].file)
    original = path.read_bytes()
    text = original.decode("utf-8")
    edited = edit_text(text, _label(path), host, fields)
    if edited == text:
        return path
    _replace_validated(inventory, path, original, edited, host, fields)
    return path


def edit_text(text: str, label: str, host: str, fields: dict[str, str | int]) -> str:
    """``text`` with ``fields`` set in the ``hosts: {host: ...}`` entry; everything else as it was."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, MappingNode):
        raise WriteRefused(f"{label}:1: a site file is a mapping; cannot add {host}")
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), applied from the end
    hosts = _value(root, "hosts")
    if hosts is None:
        block = f"  {host}:\n" + "".join(f"    {k}: {_format(v)}\n" for k, v in fields.items())
        end = len(text)
        lead = "" if text.endswith("\n") or not text else "\n"
        edits.append((end, end, f"{lead}hosts:\n{block}"))
    elif not isinstance(hosts, MappingNode):
        raise WriteRefused(f"{_where(label, hosts)}: hosts: is not a mapping of host names; cannot add {host}")
    else:
        entry = _value(hosts, host)
        if entry is None:
            value = "{" + ", ".join(f"{k}: {_format(v)}" for k, v in fields.items()) + "}"
            edits.append(_add_key(text, hosts, host, value, label, nested=fields))
        elif not isinstance(entry, MappingNode):
            raise WriteRefused(f"{_where(label, entry)}: hosts.{host} is not a mapping; cannot set its fields")
        else:
            for key, new_value in fields.items():
                node = _value(entry, key)
                if node is None:
                    edits.append(_add_key(text, entry, key, _format(new_value), label))
                elif isinstance(node, ScalarNode):
                    edits.append((node.start_mark.index, node.end_mark.index, _format(new_value, node.style)))
                else:
                    raise WriteRefused(f"{_where(label, node)}: hosts.{host}.{key} is not a single value")
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _value(mapping: MappingNode, key: str) -> Node | None:
    for key_node, value_node in mapping.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            found: Node = value_node
            return found
    return None


def _where(label: str, node: Node) -> str:
    return f"{label}:{node.start_mark.line + 1}"


def _format(value: str | int, style: str | None = None) -> str:
    """A value as YAML text: quoted unless it is a plain lower-case word; an existing quote style is kept."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if style == "'":
        return "'" + text.replace("'", "''") + "'"
    if style == '"' or not _PLAIN.fullmatch(text) or text in _YAML11_WORDS:
        return json.dumps(text, ensure_ascii=False)
    return text


def _add_key(
    text: str,
    mapping: MappingNode,
    key: str,
    value: str,
    label: str,
    nested: dict[str, str | int] | None = None,
) -> tuple[int, int, str]:
    """An insertion adding ``key: value`` to ``mapping``, in its own style (flow or block)."""
    if mapping.flow_style:
        close = mapping.end_mark.index - 1  # the closing brace
        if text[close] != "}":
            raise WriteRefused(f"{_where(label, mapping)}: cannot find the end of this mapping to add {key}")
        sep = ", " if mapping.value else ""
        return (close, close, f"{sep}{key}: {value}")
    if not mapping.value:
        raise WriteRefused(f"{_where(label, mapping)}: an empty mapping; cannot add {key}")
    indent = mapping.value[0][0].start_mark.column
    pad = " " * indent
    if nested is not None:  # a new host entry in block style, like its neighbours
        first_value = mapping.value[0][1]
        step = first_value.start_mark.column - indent if isinstance(first_value, MappingNode) else 2
        if step <= 0 or (isinstance(first_value, MappingNode) and first_value.flow_style):
            line = f"{pad}{key}: {value}\n"
        else:
            line = f"{pad}{key}:\n" + "".join(f"{pad}{' ' * step}{k}: {_format(v)}\n" for k, v in nested.items())
    else:
        line = f"{pad}{key}: {value}\n"
    end = _last_end(mapping)
    newline = text.find("\n", end)
    at = len(text) if newline < 0 else newline + 1
    prefix = "\n" if newline < 0 else ""
    return (at, at, prefix + line)


def _last_end(node: Node) -> int:
    """Where the text of ``node`` really ends: block collections' own end marks reach past comments."""
    if isinstance(node, MappingNode) and node.value and not node.flow_style:
        return _last_end(node.value[-1][1])
    if isinstance(node, SequenceNode) and node.value and not node.flow_style:
        return _last_end(node.value[-1])
    return node.end_mark.index


def _site_path(inventory: Inventory, label: str) -> Path:
    for path in inventory.files:
        if _label(path) == label:
            return path
    raise CcopsError(f"{label}: the site file is no longer in {inventory.root}")


def _replace_validated(
    inventory: Inventory, path: Path, original: bytes, edited: str, host: str, fields: dict[str, str | int]
) -> None:
    label = _label(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".ccops-edit")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(edited)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777)  # noqa: PTH101 (the site file's own mode)
        checked, problems = check_inventory(inventory.config_file, read_instead={path: tmp})
        if problems or checked is None:
            note = f"(after setting {host}'s fields)"
            raise InventoryError([Problem(p.file, p.line, f"{p.message} {note}") for p in problems])
        written = checked.hosts.get(host)
        model_fields = {k: v for k, v in fields.items() if k != "retired_on"}  # retired_on is not in the model
        if written is None or any(str(getattr(written, k, "")) != str(v) for k, v in model_fields.items()):
            raise WriteRefused(f"{label}:1: the edit did not give {host} the fields asked for; file left as it was")
        if hashlib.sha256(path.read_bytes()).digest() != hashlib.sha256(original).digest():
            raise WriteRefused(f"{label}:1: changed by someone else while ccops edited it; nothing written")
        tmp.replace(path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)
