"""Everything a host reports, parsed once at the edge into a declared shape.

``parse_report`` takes a host's ``ccops_report`` (the runner's event collector calls it);
``read_asset``, ``read_summary`` and ``read_report`` read stored records through the same
schemas, so records stored in an older shape reach readers in the declared one.
"""

from ccops.hostdata.reports import (
    parse_report,
    read_asset,
    read_certificate,
    read_manifest,
    read_report,
    read_summary,
)

__all__ = ["parse_report", "read_asset", "read_certificate", "read_manifest", "read_report", "read_summary"]
