"""The certificate a decommissioned host leaves: what was sanitised, how, verified how, by whom.

Built from the host's report (what the playbook did and read back) and the run record
(operator, change id); stored with the run in the record chain (records.add_certificate),
printed by ``ccops runs certificate RUN HOST``.
"""

from __future__ import annotations

from typing import Any

from ccops.hostdata import read_certificate
from ccops.inventory.model import Host

VERSION = 1


def build_certificate(
    host: Host, report: dict[str, Any], run_id: str, operator: str, change_id: str | None, issued: str
) -> dict[str, Any]:
    return {
        "certificate": "ccops decommission",
        "version": VERSION,
        "host": host.name,
        "site": host.site,
        "role": host.role,
        "os": host.os,
        "asset_tag": host.asset_tag,
        "machine_id": report.get("machine_id"),
        "run_id": run_id,
        "change_id": change_id,
        "operator": operator,
        "issued": issued,
        "final_backup": report.get("final_backup"),
        "revoked": report.get("revoked"),
        "sanitised": report.get("sanitised"),
        "restore_card": report.get("restore_card"),
        "end_state": report.get("end_state"),
        "inventory": report.get("inventory"),
    }


def render_text(stored: dict[str, Any]) -> str:
    """A printable page: every field a reviewer signs off, then the digests that tie it to the store."""
    doc = read_certificate(stored["document"])  # stored by any ccops version: printed in the declared shape
    lines = [
        "CERTIFICATE OF DECOMMISSIONING AND MEDIA SANITISATION",
        "",
        f"Host            {doc.get('host')} (asset tag {doc.get('asset_tag') or '-'}, site {doc.get('site')})",
        f"Role / OS       {doc.get('role')} / {doc.get('os')}",
        f"Machine id      {doc.get('machine_id') or '-'}",
        f"Run             {doc.get('run_id')}",
        f"Change id       {doc.get('change_id') or '-'}",
        f"Operator        {doc.get('operator')}",
        f"Issued          {doc.get('issued')}",
        "",
    ]
    backup = doc.get("final_backup") or {}
    lines += [
        "Final backup    " + (f"{backup.get('id')} sha256 {backup.get('sha256')}" if backup else "-"),
        f"                verified at the backup target: {'yes' if backup.get('verified') else 'NO'}",
        "",
        "Sanitised (NIST SP 800-88 Rev. 1):",
    ]
    for item in doc.get("sanitised") or []:
        lines.append(
            f"  {item.get('path')}: {item.get('method')}; {item.get('files', 0)} file(s), "
            f"{item.get('bytes', 0)} byte(s); verification: {item.get('verification')}: {item.get('result')}"
        )
    if not doc.get("sanitised"):
        lines.append("  (no data path declared)")
    revoked = doc.get("revoked") or {}
    lines += ["", "Revoked:"]
    for key, value in revoked.items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        lines.append(f"  {key.replace('_', ' '):<22}{shown or 'none'}")
    card = doc.get("restore_card") or {}
    lines += [
        "",
        f"Restore card    {card.get('type', 'none')}: {card.get('action', '-')}",
        f"End state       {doc.get('end_state') or '-'}",
        f"Inventory       {doc.get('inventory') or '-'}",
        "",
        f"Document sha256 {stored['document_sha256']}",
    ]
    seal = stored.get("seal")
    if seal:
        lines.append(f"Record seal     #{seal['seq']} {seal['sha256']}")
    if doc.get("damaged"):
        lines.append(
            "damaged: fields of the stored document that did not fit were left out: " + "; ".join(doc["damaged"])
        )
    if stored["document_sha256"] != stored["sha256"]:
        lines.append("WARNING: the document no longer matches the sha256 it was issued with")
    return "\n".join(lines)
