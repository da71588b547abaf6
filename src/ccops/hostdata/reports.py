"""One entry point for a host's report: the schema follows the verb, else the report's outcome word.

The outcome word picks the document when the verb is not known (a node's replayed journal, a
deploy stage): ``inspected`` is an asset report, ``noncompliant`` a comply result and so on.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from ccops.hostdata.asset import ASSET, REPORTED_ASSET, SUMMARY
from ccops.hostdata.kinds import Int, Kind, Notes, Record, Text, parse
from ccops.hostdata.runs import (
    BASE,
    CERTIFICATE,
    COMPLY,
    DECOMMISSION,
    DEPLOY_BACKUP,
    DOWNLOADED,
    EVIDENCE,
    GENERIC,
    LISTED,
    MANIFEST,
    PATCH,
    SOFTWARE,
    STAGED,
)
from ccops.verbs import recorded_verb

BY_VERB: dict[str, Kind] = {
    "inspect": REPORTED_ASSET,  # a host may say its packages are unchanged (filled in before saving)
    "comply": COMPLY,
    "comply-check": COMPLY,
    "patch": PATCH,
    "rollback": PATCH,
    "software-apply": SOFTWARE,
    "software-remove": SOFTWARE,
    "software-stage": STAGED,
    "content-updates": LISTED,
    "content-download": DOWNLOADED,
    "decommission": DECOMMISSION,
}
BY_OUTCOME: dict[str, Kind] = {
    "inspected": REPORTED_ASSET,
    "deployed": ASSET,
    "compliant": COMPLY,
    "noncompliant": COMPLY,
    "fixed": COMPLY,
    "patching": PATCH,
    "patched": PATCH,
    "applying": SOFTWARE,
    "applied": SOFTWARE,
    "decommissioning": DECOMMISSION,
    "decommissioned": DECOMMISSION,
    "backed_up": DEPLOY_BACKUP,
    "listed": LISTED,
    "downloaded": DOWNLOADED,
    "staged": STAGED,
}


# how a verb's declared facts (ccops.verbs.Fact.kind) are parsed
FACT_SHAPES: dict[str, Kind] = {
    "text": Text(256, nullable=True),
    "count": Int(nullable=True),
    "seconds": Int(nullable=True),
}


@functools.cache
def _declared_facts(verb: str) -> Kind | None:
    """The report of a verb that declares the facts it gathers: outcome, reason and those facts."""
    known = recorded_verb(verb)
    if known is None or not known.facts:
        return None
    return Record({**BASE, **{f.key: FACT_SHAPES[f.kind] for f in known.facts}}, extra=EVIDENCE)


def schema_for(report: Any, verb: str | None = None) -> Kind:
    if verb in BY_VERB:
        return BY_VERB[verb]
    if verb is not None and (facts := _declared_facts(verb)):
        return facts
    outcome = report.get("outcome") if isinstance(report, dict) else None
    return BY_OUTCOME.get(outcome, GENERIC) if isinstance(outcome, str) else GENERIC


def parse_report(report: Any, verb: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """A report as a host sent it, in its declared shape, and the damage found (also in its ``damaged``).

    A report that is not a mapping at all becomes ``{"outcome": "damaged"}``. A host does not get
    to say what was damaged: its own ``damaged`` field is dropped.
    """
    if isinstance(report, dict):
        report = {k: v for k, v in report.items() if k != "damaged"}
    return _shaped(schema_for(report, verb), report, [])


def read_report(report: Any, verb: str | None = None) -> dict[str, Any]:
    """A host result's report as stored (any age, any shape): declared shape, damage kept in ``damaged``."""
    if report is None:
        return {}
    return _shaped(schema_for(report, verb), report, _kept(report))[0]


def read_asset(record: Any) -> dict[str, Any]:
    """A stored asset record (latest row or a kept version) in the asset report's declared shape."""
    return _shaped(ASSET, record, _kept(record))[0]


def read_summary(summary: Any) -> dict[str, Any]:
    """A stored version's summary, as the fleet views (risks, report, trends) read it."""
    clean, damaged = parse(SUMMARY, summary)
    if not isinstance(clean, dict):
        return {"damaged": True}
    if damaged and "damaged" not in clean:
        clean["damaged"] = damaged
    return clean


def read_certificate(document: Any) -> dict[str, Any]:
    """A stored certificate's document in its declared shape, for printing (its digest stays the stored text's)."""
    return _shaped(CERTIFICATE, document, _kept(document))[0]


def read_manifest(text: str) -> dict[str, Any]:
    """A backup's manifest.json as the share holds it (written by the host) in its declared shape.

    Text that is not a JSON mapping (cut short, nested past any sense) reads as an unverified backup.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return {"verified": False, "problem": "manifest unreadable"}
    clean = _shaped(MANIFEST, {k: v for k, v in data.items() if k != "damaged"}, [])[0]
    if "damaged" in clean:
        clean["verified"] = False  # a manifest that does not fit does not vouch for its archive
        clean["problem"] = "manifest damaged: " + "; ".join(clean["damaged"][:3])
    return clean


def _kept(document: Any) -> list[str]:
    """The damage notes a stored document already carries (from when it was received)."""
    notes = document.get("damaged") if isinstance(document, dict) else None
    if not isinstance(notes, list):
        return []
    return [Text(512).parse(str(n)[:512], None, Notes()) for n in notes[:100]]  # NUL and surrogates mended


def _shaped(schema: Kind, document: Any, kept: list[str]) -> tuple[dict[str, Any], list[str]]:
    clean, damaged = parse(schema, document)
    if not isinstance(clean, dict):
        clean = {"outcome": "damaged", "reason": "the host's report is not a mapping"}
    notes = [*kept, *(n for n in damaged if not n.startswith("damaged"))]
    clean.pop("damaged", None)
    if notes:
        clean["damaged"] = notes
    return clean, damaged
