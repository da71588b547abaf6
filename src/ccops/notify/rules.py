"""``<inventory>/notify.yml``: the channels people listen on and which events reach them, per site.

Read like a site file (yamldoc + FieldReader): every problem is one ``FILE:LINE`` line.
Secrets are never written here: a channel's password, key or token is ``{env: NAME}``
or ``{file: PATH}`` (a path relative to the inventory folder), read only at delivery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ccops.errors import InventoryError
from ccops.inventory.fields import FieldReader, dotted
from ccops.inventory.yamldoc import KeyPath, Problem, load

RULES_NAME = "notify.yml"
KINDS = ("mail", "webhook", "wecom", "dingtalk", "feishu")
EVENTS = ("failed", "halted", "rolled_back", "refused", "succeeded", "new_risks", "reverted", "digest", "test")
ROUTED_EVENTS = EVENTS[:-1]  # "test" is only ever sent by ``ccops notify test``
TOP_KEYS = ("channels", "rules", "undelivered_risk_hours")
RULE_KEYS = ("events", "channels", "sites")
# what each kind of channel may say; secrets are the keys that must be references
CHANNEL_KEYS: dict[str, tuple[str, ...]] = {
    "mail": ("kind", "server", "port", "from", "to", "user", "password", "tls"),
    "webhook": ("kind", "url", "secret"),
    "wecom": ("kind", "key"),
    "dingtalk": ("kind", "token", "secret"),
    "feishu": ("kind", "token"),
}
SECRETS = frozenset({"password", "secret", "key", "token"})
REQUIRED: dict[str, tuple[str, ...]] = {
    "mail": ("server", "from", "to"),
    "webhook": ("url", "secret"),
    "wecom": ("key",),
    "dingtalk": ("token",),
    "feishu": ("token",),
}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
HOSTNAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*"
)
ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}")
URL = re.compile(r"(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]{1,253})(:(?P<port>\d{1,5}))?(?P<path>/[\x21-\x7e]*)?")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
DEFAULT_UNDELIVERED_HOURS = 4.0


@dataclass(frozen=True)
class Channel:
    name: str
    kind: str
    settings: dict[str, Any]  # checked values; secrets are still {env: NAME} / {file: PATH} references


@dataclass(frozen=True)
class Rule:
    events: tuple[str, ...]
    channels: tuple[str, ...]
    sites: tuple[str, ...] | None  # None: every site


@dataclass
class Rules:
    root: Path  # the inventory folder: {file: PATH} is relative to it
    channels: dict[str, Channel] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    undelivered_risk_hours: float = DEFAULT_UNDELIVERED_HOURS

    def route(self, events: set[str], site: str | None) -> set[str]:
        """Channels that hear any of ``events`` for a host of ``site`` (None: a fleet-wide message)."""
        return {
            name
            for rule in self.rules
            if events & set(rule.events) and (rule.sites is None or (site is not None and site in rule.sites))
            for name in rule.channels
        }


def rules_path(inventory: Path) -> Path:
    folder = inventory if inventory.is_dir() else inventory.parent
    return folder / RULES_NAME


def load_rules(inventory: Path, sites: set[str] | None = None) -> Rules:
    """The inventory's rules (none when it has no notify.yml); InventoryError lists every problem."""
    path = rules_path(inventory)
    rules = Rules(path.parent)
    if not path.exists():
        return rules
    doc, problems = load(path)
    if doc is None:
        raise InventoryError(problems)
    reader = FieldReader(doc)
    data = doc.data if doc.data is not None else {}
    if reader.valid(data, (), dict):
        reader.only_keys(data, (), TOP_KEYS)
        hours = reader.get(data, (), "undelivered_risk_hours", float)
        if hours is not None and not 0 < hours <= 24 * 365:
            reader.report(("undelivered_risk_hours",), "undelivered_risk_hours: between 0 and 8760 hours")
        elif hours is not None:
            rules.undelivered_risk_hours = float(hours)
        rules.channels = _channels(reader, data.get("channels", {}))
        rules.rules = _rules(reader, data.get("rules", []), set(rules.channels), sites)
    problems += reader.problems
    if problems:
        raise InventoryError(sorted(set(problems)))
    return rules


def _channels(reader: FieldReader, raw: Any) -> dict[str, Channel]:
    kp: KeyPath = ("channels",)
    out: dict[str, Channel] = {}
    if not reader.valid(raw, kp, dict):
        return out
    for name, spec in raw.items():
        ckp = (*kp, name)
        if not NAME.fullmatch(name):
            reader.report(ckp, f"{dotted(ckp)}: a channel name is letters, digits, '.', '_' or '-'")
            continue
        if not reader.valid(spec, ckp, dict):
            continue
        kind = reader.get(spec, ckp, "kind", str, required=True, choices=KINDS)
        if kind is None:
            continue
        reader.only_keys(spec, ckp, CHANNEL_KEYS[kind])
        for key in REQUIRED[kind]:
            if key not in spec:
                reader.report(ckp, f"{dotted((*ckp, key))}: required for a {kind} channel")
        settings = _settings(reader, kind, spec, ckp)
        if settings is not None:
            out[name] = Channel(name, kind, settings)
    return out


def _settings(reader: FieldReader, kind: str, spec: dict[str, Any], ckp: KeyPath) -> dict[str, Any] | None:
    before = len(reader.problems)
    out: dict[str, Any] = {}
    for key in CHANNEL_KEYS[kind][1:]:
        if key not in spec:
            continue
        value, kp = spec[key], (*ckp, key)
        if key in SECRETS or (kind == "mail" and key == "password"):
            out[key] = _secret(reader, value, kp)
        elif key == "server":
            out[key] = _match(reader, value, kp, HOSTNAME, "a host name or address")
        elif key == "port":
            port = reader.get(spec, ckp, "port", int)
            if port is not None and not 0 < port < 65536:
                reader.report(kp, f"{dotted(kp)}: {port} is not a port")
            out[key] = port
        elif key == "tls":
            out[key] = reader.get(spec, ckp, "tls", str, choices=("starttls", "ssl"))
        elif key in ("from", "user"):
            out[key] = _match(
                reader,
                value,
                kp,
                ADDRESS if key == "from" else NAME,
                "a mail address" if key == "from" else "a user name",
            )
        elif key == "to":
            targets = value if isinstance(value, list) else [value]
            out[key] = [
                _match(reader, t, (*kp, i) if isinstance(value, list) else kp, ADDRESS, "a mail address")
                for i, t in enumerate(targets)
            ]
        elif key == "url":
            out[key] = _match(reader, value, kp, URL, "an http(s) URL")
    return out if len(reader.problems) == before else None


def _match(reader: FieldReader, value: Any, kp: KeyPath, pattern: re.Pattern[str], what: str) -> str | None:
    if not reader.valid(value, kp, str):
        return None
    if not pattern.fullmatch(value):
        reader.report(kp, f"{dotted(kp)}: {value!r} is not {what}")
        return None
    return value


def _secret(reader: FieldReader, raw: Any, kp: KeyPath) -> dict[str, str] | None:
    if isinstance(raw, str):
        reader.report(
            kp, f"{dotted(kp)}: secrets are never written into the inventory; use {{env: VARIABLE}} or {{file: PATH}}"
        )
        return None
    if not (isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("env", "file")) or not isinstance(
        next(iter(raw.values())), str
    ):
        reader.report(kp, f"{dotted(kp)}: a secret reference is {{env: VARIABLE}} or {{file: PATH}}")
        return None
    if "env" in raw and not ENV_NAME.fullmatch(raw["env"]):
        reader.report((*kp, "env"), f"{dotted((*kp, 'env'))}: {raw['env']!r} is not an environment variable name")
        return None
    if "file" in raw and (not raw["file"] or not raw["file"].isprintable()):
        reader.report((*kp, "file"), f"{dotted((*kp, 'file'))}: {raw['file']!r} is not a usable path")
        return None
    return dict(raw)


def _rules(reader: FieldReader, raw: Any, channels: set[str], sites: set[str] | None) -> list[Rule]:
    kp: KeyPath = ("rules",)
    out: list[Rule] = []
    if not reader.valid(raw, kp, list):
        return out
    for i, spec in enumerate(raw):
        rkp = (*kp, i)
        if not reader.valid(spec, rkp, dict):
            continue
        reader.only_keys(spec, rkp, RULE_KEYS)
        events = _words(reader, spec, rkp, "events", ROUTED_EVENTS)
        names = _words(reader, spec, rkp, "channels", sorted(channels))
        chosen = (
            _words(reader, spec, rkp, "sites", sorted(sites) if sites is not None else None)
            if "sites" in spec
            else None
        )
        if events and names and (chosen is None or chosen):
            out.append(Rule(tuple(events), tuple(names), None if chosen is None else tuple(chosen)))
    return out


def _words(reader: FieldReader, spec: dict[str, Any], rkp: KeyPath, key: str, choices: Any) -> list[str]:
    raw = reader.get(spec, rkp, key, list, required=True)
    if raw is None:
        return []
    out = []
    for j, word in enumerate(raw):
        kp = (*rkp, key, j)
        if not reader.valid(word, kp, str):
            continue
        if choices is not None and word not in choices:
            known = ", ".join(choices) or "none declared"
            reader.report(kp, f"{dotted(kp)}: unknown {key[:-1]} {word!r}; known: {known}")
            continue
        out.append(word)
    return out


def problem_lines(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)
