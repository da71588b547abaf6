"""Reports and asset records kept as content-addressed parts: a value stored once, referenced until it changes.

A JSON object (a host's report, an asset record) is kept as a small manifest: its top-level keys
whose JSON is short stay in the manifest itself; each longer value (the package set, the services,
the log lines) becomes a part of its own. Parts and manifests live in one table, ``parts``, keyed
by the sha256 of their canonical JSON and zlib-compressed. An inspection whose package set did not
change references the part the previous one stored; the inspect host result and the asset
version made from the same report share their parts.

Each part counts its references: a manifest counts the rows that name it; a part counts the
manifests that hold it (once per manifest, however many rows name that manifest). ``release``
drops a reference and removes what nobody references any more, so retention frees space.
A row names its manifest by its sha256, which hashes every part's sha256 in turn: sealing that
column (record_chain) attests the whole value, and ``damaged_parts`` finds a part edited in place.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterable
from typing import Any

# a rowid table: a part up to ~4 KB stays on its b-tree page (WITHOUT ROWID would spill anything over 1 KB)
PARTS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS parts (sha256 TEXT NOT NULL UNIQUE, refs INTEGER NOT NULL, data BLOB NOT NULL)"
)
INLINE_MAX = 160  # a value whose JSON is at most this long stays in the manifest (a part costs ~100 bytes)
ZLIB_LEVEL = 6


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _pack(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8", "surrogatepass"), ZLIB_LEVEL)


def _add_ref(db: sqlite3.Connection, sha: str, text: str) -> bool:
    """One more reference to the part ``sha`` (stored from ``text`` if new); True when it was new."""
    if db.execute("UPDATE parts SET refs = refs + 1 WHERE sha256=?", (sha,)).rowcount:
        return False
    db.execute("INSERT INTO parts (sha256, refs, data) VALUES (?, 1, ?)", (sha, _pack(text)))
    return True


def put(db: sqlite3.Connection, value: dict[str, Any]) -> str:
    """Keep ``value`` (a JSON object) and take one reference to it; its manifest's sha256 is returned."""
    inline: dict[str, Any] = {}
    parts: dict[str, str] = {}
    texts: dict[str, str] = {}
    for key, item in value.items():
        text = canonical_json(item)
        if len(text) <= INLINE_MAX:
            inline[key] = json.loads(text)  # what a reader gets back: plain JSON values
        else:
            sha = _sha(text)
            parts[key], texts[sha] = sha, text
    manifest = canonical_json({"keys": list(value), "inline": inline, "parts": parts})
    sha = _sha(manifest)
    if _add_ref(db, sha, manifest):
        for part, text in texts.items():
            _add_ref(db, part, text)
    return sha


def _load(data: Any) -> Any:
    if not isinstance(data, bytes):
        return None
    try:
        return json.loads(zlib.decompress(data))
    except (zlib.error, ValueError, RecursionError):
        return None


def get(db: sqlite3.Connection, sha: str, keys: tuple[str, ...] | None = None) -> dict[str, Any] | None:
    """The value a manifest names, in its keys' order; None when it or one of its parts is gone or unreadable.

    ``keys``: only these of its keys (those it has): the other parts are not read nor decoded.
    """
    row = db.execute("SELECT data FROM parts WHERE sha256=?", (sha,)).fetchone()
    manifest: Any = _load(row[0]) if row is not None else None
    if not _is_manifest(manifest):
        return None
    if keys is not None:
        manifest["keys"] = [k for k in manifest["keys"] if k in keys]
        manifest["parts"] = {k: v for k, v in manifest["parts"].items() if k in keys}
    wanted = list(manifest["parts"].values())
    found = {
        str(s): _load(d)
        for s, d in db.execute(
            f"SELECT sha256, data FROM parts WHERE sha256 IN ({','.join('?' * len(wanted))})",  # noqa: S608
            wanted,
        )
    }
    out: dict[str, Any] = {}
    for key in manifest["keys"]:
        if key in manifest["inline"]:
            out[key] = manifest["inline"][key]
        elif found.get(manifest["parts"].get(key)) is not None:
            out[key] = found[manifest["parts"][key]]
        else:
            return None
    return out


def _json(raw: bytes | None) -> Any:
    try:
        return json.loads(raw) if raw is not None else None
    except (ValueError, RecursionError):
        return None


def manifest_inline(db: sqlite3.Connection, sha: str) -> dict[str, Any] | None:
    """The short values a manifest holds itself (outcome, times), without reading its parts."""
    row = db.execute("SELECT data FROM parts WHERE sha256=?", (sha,)).fetchone()
    manifest: Any = _load(row[0]) if row is not None else None
    return manifest["inline"] if _is_manifest(manifest) else None


def _is_manifest(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("keys"), list)
        and isinstance(value.get("inline"), dict)
        and isinstance(value.get("parts"), dict)
        and all(isinstance(s, str) for s in value["parts"].values())
    )


def release(db: sqlite3.Connection, sha: str | None) -> None:
    """Drop one reference to the manifest ``sha``; what nobody references any more is removed."""
    if not sha:
        return
    row = db.execute("UPDATE parts SET refs = refs - 1 WHERE sha256=? RETURNING refs, data", (sha,)).fetchone()
    if row is None or row[0] > 0:
        return
    db.execute("DELETE FROM parts WHERE sha256=?", (sha,))
    manifest = _load(row[1])
    if not _is_manifest(manifest):
        return
    for part in set(manifest["parts"].values()):
        db.execute("UPDATE parts SET refs = refs - 1 WHERE sha256=?", (part,))
        db.execute("DELETE FROM parts WHERE sha256=? AND refs <= 0", (part,))


def damaged_parts(db: sqlite3.Connection, manifests: Iterable[str]) -> list[str]:
    """Of these manifests (the ones still kept), those whose content or a part's no longer hashes to its name.

    A part shared by many manifests (an unchanged package set) is read and hashed once; only whether it
    held is remembered, never its content (a year of kept parts would not fit in memory).
    """
    intact: dict[str, bool] = {}

    def text(sha: str) -> bytes | None:  # the part's stored JSON if it still hashes to its name
        row = db.execute("SELECT data FROM parts WHERE sha256=?", (sha,)).fetchone()
        try:
            raw = zlib.decompress(row[0]) if row is not None and isinstance(row[0], bytes) else None
        except zlib.error:
            raw = None
        return raw if raw is not None and hashlib.sha256(raw).hexdigest() == sha else None

    def holds(sha: str) -> bool:
        if sha not in intact:
            intact[sha] = text(sha) is not None
        return intact[sha]

    bad = []
    for sha in manifests:
        if db.execute("SELECT 1 FROM parts WHERE sha256=?", (sha,)).fetchone() is None:
            continue  # released by retention: the row's seal still names what it was
        manifest = _json(text(sha))
        if not _is_manifest(manifest) or not all(holds(p) for p in set(manifest["parts"].values())):
            bad.append(sha)
    return bad


def retain(db: sqlite3.Connection, sha: str) -> None:
    """One more reference to a manifest already kept (the latest asset row naming its newest version's)."""
    db.execute("UPDATE parts SET refs = refs + 1 WHERE sha256=?", (sha,))
