"""Per host and CVE after the run: fixed only when the post-run inspection's installed version proves it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ccops.remediate.targets import Target
from ccops.report.reverted import BadVersion, compare

FIXED, STILL_VULNERABLE, NOT_TOUCHED = "fixed", "still_vulnerable", "not_touched"


@dataclass
class Outcome:
    host: str
    cve: str
    package: str
    urgency: str
    fixing: str
    before: str
    after: str | None  # from the post-run inspection; None when the host was not re-inspected
    state: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def judge(
    targets: list[Target], inspected: dict[str, dict[str, str]], patched: dict[str, str], skipped: dict[str, str]
) -> list[Outcome]:
    """inspected: host -> package -> version, from inspections made after the patch run only;
    patched: host -> the patch run's outcome for it; skipped: host -> why ccops did not patch it."""
    out = []
    for t in targets:
        after = inspected.get(t.host, {}).get(t.package) if t.host in inspected else None
        row = Outcome(t.host, t.cve, t.package, t.urgency, t.fixing, t.installed, after, STILL_VULNERABLE)
        if t.host in skipped:
            row.state, row.detail = NOT_TOUCHED, skipped[t.host]
        elif t.host not in patched:
            row.state, row.detail = NOT_TOUCHED, "not in the patch run"
        elif t.host not in inspected:
            row.detail = "not re-inspected after the patch run: nothing proves a fix"
        elif after is None:
            row.detail = "the package is no longer installed"  # removing it is not a fix ccops can prove
        else:
            try:
                if compare(after, t.fixing) >= 0:
                    row.state = FIXED
            except BadVersion:
                row.detail = "the host reported a version dpkg would not accept"
        if row.state == STILL_VULNERABLE and not row.detail:
            row.detail = f"patch run: {patched.get(t.host)}"
        out.append(row)
    return out
