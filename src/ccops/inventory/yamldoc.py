"""Read one YAML file into plain data plus the line of every value, safely.

PyYAML composes the node graph (C parser when available); we build the data
ourselves so that every value keeps its line, duplicate keys and Jinja2
templates are reported, and alias bombs or deep nesting stop early instead of
exhausting memory.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ccops.text.templating import is_templated

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 16
MAX_VALUES = 200_000
STR_TAG = "tag:yaml.org,2002:str"
# scalars may be text, numbers, booleans or empty; !!binary, !!timestamp, !!set and
# application tags are refused (stock Ansible tools crash on some of them)
DATA_TAGS = frozenset(
    {STR_TAG, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}
)
COLLECTION_TAGS = frozenset({"tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"})
# where a value sits in a document: mapping keys and list indexes from the top
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        # one line on the terminal whatever a key or value held: newlines and escapes are shown, not obeyed
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in self.message)
        return f"{self.file}:{self.line}: {message}"


class _Stop(Exception):
    """The document is too big or too deep to read any further."""


@dataclass
class YamlDoc:
    """A loaded document: ``data`` plus where each value came from."""

    path: str
    data: Any
    lines: dict[KeyPath, int]
    # raw text of scalars YAML 1.1 did not read as strings (for "quote it" hints)
    raw: dict[KeyPath, str]

    def line(self, *keypath: str | int) -> int:
        """Line of the value at ``keypath``, or of its nearest known parent."""
        path = tuple(keypath)
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1)

    def problem(self, keypath: KeyPath, message: str) -> Problem:
        return Problem(self.path, self.line(*keypath), message)


class _Builder:
    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        self.lines: dict[KeyPath, int] = {}
        self.raw: dict[KeyPath, str] = {}
        self.problems: list[Problem] = []
        self._scalars = SafeConstructor()

    def build(self, node: Any, keypath: KeyPath, depth: int) -> Any:
        self.count += 1
        line = node.start_mark.line + 1
        if self.count > MAX_VALUES:
            raise _Stop(f"document holds more than {MAX_VALUES} values (alias bomb?); refusing to read it")
        if depth > MAX_DEPTH:
            raise _Stop(f"line {line}: nesting deeper than {MAX_DEPTH} levels; refusing to read it")
        self.lines[keypath] = line
        if isinstance(node, ScalarNode):
            return self._scalar(node, keypath, line)
        if not isinstance(node, ScalarNode) and node.tag not in COLLECTION_TAGS:
            raise _Stop(f"line {line}: tag {node.tag} is not allowed; inventory values are plain data")
        if isinstance(node, SequenceNode):
            return [self.build(item, (*keypath, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            return self._mapping(node, keypath, depth)
        raise _Stop(f"line {line}: unsupported YAML node")

    def _scalar(self, node: ScalarNode, keypath: KeyPath, line: int) -> Any:
        if node.tag not in DATA_TAGS:
            kind = node.tag.rsplit(":", 1)[-1]
            self.problems.append(
                Problem(
                    self.path,
                    line,
                    (
                        f"{node.value[:40]!r} is read by YAML as {kind}, which an inventory cannot hold; "
                        "write it in quotes as text"
                    ),
                )
            )
            return node.value
        if node.tag == STR_TAG:
            if is_templated(node.value):
                self.problems.append(
                    Problem(
                        self.path,
                        line,
                        (
                            f"{node.value!r} would be templated by Ansible (Jinja2); "
                            "inventory values are data, not templates"
                        ),
                    )
                )
            return node.value
        self.raw[keypath] = node.value
        try:
            return self._scalars.construct_object(node)
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.path, line, f"cannot read value {node.value!r}: {exc}"))
            return node.value

    def _mapping(self, node: MappingNode, keypath: KeyPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(
                    Problem(self.path, line, "keys must be plain words (no merge keys or complex keys)")
                )
                continue
            key = key_node.value
            if key in out:
                self.problems.append(Problem(self.path, line, f"duplicate key {key!r}"))
                continue
            out[key] = self.build(value_node, (*keypath, key), depth + 1)
            self.lines[(*keypath, key)] = line  # problems about a value point at its key
        return out


def _read_text(path: Path) -> str:
    """A regular file's text, at most MAX_BYTES: a FIFO, a device or /dev/zero is never read."""
    info = path.stat()  # follows symlinks: a link to /dev/zero is refused as a device
    if not stat.S_ISREG(info.st_mode):
        raise _Stop("not a regular file (a pipe, device or folder); a site file is plain YAML text")
    # O_NONBLOCK: a file swapped for a FIFO after the check above still cannot hang the open
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise _Stop("not a regular file (a pipe, device or folder); a site file is plain YAML text")
        data = handle.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise _Stop(f"file is larger than {MAX_BYTES} bytes; refusing to read it")
    return data.decode("utf-8")


def _too_deep(text: str) -> int:
    """Line where nesting passes MAX_DEPTH, or 0.

    libyaml's composer recurses once per level in C: 30,000 nested brackets crash the
    process. Its event parser keeps an explicit stack, so depth is measured on events
    first and nothing deep is ever composed.
    """
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH + 1:
                # the parser marks every event; the stubs allow None for hand-made ones
                return event.start_mark.line + 1 if event.start_mark is not None else 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return 0


def load(path: Path, label: str | None = None) -> tuple[YamlDoc | None, list[Problem]]:  # noqa: PLR0911
    """Load ``path``; on failure return ``None`` and the problems found."""
    name = label or str(path)
    try:
        text = _read_text(path)
    except _Stop as exc:
        return None, [Problem(name, 1, str(exc))]
    except UnicodeDecodeError as exc:
        return None, [Problem(name, 1, f"not UTF-8 text: {exc.reason}")]
    except OSError as exc:
        return None, [Problem(name, 1, f"cannot read: {exc.strerror}")]
    try:
        too_deep = _too_deep(text)
        if too_deep:
            return None, [Problem(name, too_deep, f"nesting deeper than {MAX_DEPTH} levels; refusing to read it")]
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [Problem(name, line, f"bad YAML: {exc.problem or exc.context}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, 1, f"bad YAML: {exc}")]
    if node is None:
        return YamlDoc(name, None, {(): 1}, {}), []
    builder = _Builder(name)
    try:
        data = builder.build(node, (), 0)
    except _Stop as exc:
        return None, [Problem(name, 1, str(exc))]
    except RecursionError:
        return None, [Problem(name, 1, "document refers to itself (recursive alias); refusing to read it")]
    return YamlDoc(name, data, builder.lines, builder.raw), builder.problems
