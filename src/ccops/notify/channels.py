"""Hand a message to a channel through Apprise, secrets read only now.

Apprise services are built from a dictionary of the plugin's constructor arguments
(``Apprise.instantiate``), never from a URL pasted together: no value from a site file
or a secret can change which service, host or path is used.

The webhook is Apprise's JSON service, signed: ``X-Ccops-Timestamp`` (Unix seconds) and
``X-Ccops-Signature: sha256=HEX``, the HMAC-SHA256 with the channel's secret over
``TIMESTAMP.MESSAGE`` where MESSAGE is the ``message`` field of the posted JSON (the
ccops document, itself JSON text). ``signature`` below is what a receiver recomputes.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccops.errors import CcopsError
from ccops.notify.rules import URL, Channel

SIGNATURE_HEADER = "X-Ccops-Signature"
TIMESTAMP_HEADER = "X-Ccops-Timestamp"
MAX_SECRET_BYTES = 4096
SECRET_ARGS = ("password", "key", "token", "secret")  # the plugin arguments that hold a secret
# how each kind of channel wants its text (message.render)
FORMATS = {"mail": "text", "webhook": "json", "wecom": "markdown", "dingtalk": "markdown", "feishu": "markdown"}


class DeliveryError(CcopsError):
    """A channel could not be reached or refused the message (kept in the outbox, retried)."""


@dataclass(frozen=True)
class Outgoing:
    title: str
    body: str
    form: str  # text | markdown | json


def signature(secret: str, timestamp: str, message: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{message}".encode(), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, message: str, header: str, now: float | None = None, skew: float = 300) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent (no replays of old posts)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    return age <= skew and hmac.compare_digest(signature(secret, timestamp, message), header)


def read_secret(ref: dict[str, str] | None, root: Path, what: str) -> str | None:
    if ref is None:
        return None
    if "env" in ref:
        value = os.environ.get(ref["env"])
        if not value:
            raise DeliveryError(f"{what}: environment variable {ref['env']} is not set")
        return value
    path = Path(ref["file"]).expanduser()
    path = path if path.is_absolute() else root / path
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise DeliveryError(f"{what}: cannot read its secret file {path} ({exc.strerror})") from None
    if len(data) > MAX_SECRET_BYTES:
        raise DeliveryError(f"{what}: secret file {path} is larger than {MAX_SECRET_BYTES} bytes")
    text = data.decode("utf-8", "replace").strip()
    if not text:
        raise DeliveryError(f"{what}: secret file {path} is empty")
    return text


def service_args(channel: Channel, root: Path, now: float | None = None, message: str = "") -> dict[str, Any]:
    """The Apprise plugin's constructor arguments for ``channel`` (secrets included: never stored or shown)."""
    s, what = channel.settings, f"channel {channel.name}"
    if channel.kind == "mail":
        args: dict[str, Any] = {
            "schema": "mailtos" if s.get("tls") == "ssl" else "mailto",
            "host": s["from"].rsplit("@", 1)[1],
            "smtp_host": s["server"],
            "from_addr": s["from"],
            "targets": list(s["to"]),
            # STARTTLS unless the channel says ssl: mail never leaves in clear text
            "secure": True,
            "secure_mode": s.get("tls") or "starttls",
        }
        if "port" in s:
            args["port"] = s["port"]
        if "user" in s:
            args["user"] = s["user"]
            args["password"] = read_secret(s.get("password"), root, what)
        return args
    if channel.kind == "webhook":
        match = URL.fullmatch(s["url"])
        if match is None:  # rules checked it; an outbox message may outlive an edit
            raise DeliveryError(f"{what}: url is not an http(s) URL")
        stamp = str(int(time.time() if now is None else now))
        secret = read_secret(s["secret"], root, what) or ""
        args = {
            "schema": "jsons" if match["scheme"] == "https" else "json",
            "host": match["host"],
            "fullpath": match["path"] or "/",
            "secure": match["scheme"] == "https",
            "method": "POST",
            "headers": {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(secret, stamp, message)},
        }
        if match["port"]:
            args["port"] = int(match["port"])
        return args
    if channel.kind == "wecom":
        return {"schema": "wecombot", "key": read_secret(s["key"], root, what)}
    if channel.kind == "dingtalk":
        return {
            "schema": "dingtalk",
            "token": read_secret(s["token"], root, what),
            "secret": read_secret(s.get("secret"), root, what),
        }
    return {"schema": "feishu", "token": read_secret(s["token"], root, what)}


def deliver(channel: Channel, root: Path, message: Outgoing, timeout: float = 15) -> None:
    """Send one message; DeliveryError (never with a secret in it) when it did not arrive."""
    import apprise  # imported here: ccops --help must not pay for it

    args = {**service_args(channel, root, message=message.body), "cto": timeout, "rto": timeout}
    service = apprise.Apprise.instantiate(args, suppress_exceptions=True)
    if service is None:
        raise DeliveryError(f"channel {channel.name}: Apprise refused its settings (check the channel in notify.yml)")
    form = {
        "text": apprise.NotifyFormat.TEXT,
        "markdown": apprise.NotifyFormat.MARKDOWN,
        "json": apprise.NotifyFormat.TEXT,
    }
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:  # type: ignore[no-untyped-call]
        sent = service.notify(body=message.body, title=message.title, body_format=form[message.form])
    if not sent:
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        why = lines[-1] if lines else f"{channel.kind} server unreachable or refused it"
        for value in (v for k, v in args.items() if k in SECRET_ARGS and isinstance(v, str) and v):
            why = why.replace(value, "<redacted by ccops>")
        raise DeliveryError(f"channel {channel.name}: not delivered ({why[:300]})")
