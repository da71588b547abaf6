"""A compliance run as JUnit XML: a CI pipeline shows each host and policy as a test.

One test suite per host, one test case per policy checked on it; a policy with
deviations is a failure carrying one line per deviation. A host that could not
be checked (unreachable, failed before its check) is one errored test case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ccops.run.request import RunResult


def compliance_junit(result: RunResult) -> str:
    suites = ET.Element("testsuites", name=f"ccops {result.verb} {result.run_id}")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for outcome in result.hosts:
        report: dict[str, Any] = result.reports.get(outcome.host) or {}
        suite = ET.SubElement(suites, "testsuite", name=outcome.host)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        policies = report.get("policies")
        if policies is None:  # never checked: the reason is the host's message
            case = ET.SubElement(suite, "testcase", classname=outcome.host, name="checked")
            error = ET.SubElement(case, "error", message=f"{outcome.outcome}: {outcome.message or ''}".strip())
            error.text = outcome.message or outcome.outcome
            counts.update(tests=1, errors=1)
        for policy in policies or []:
            case = ET.SubElement(suite, "testcase", classname=outcome.host, name=policy)
            counts["tests"] += 1
            details = [d["detail"] for d in report.get("deviations") or [] if d.get("policy") == policy]
            if details:
                failure = ET.SubElement(case, "failure", message=details[0], type="deviation")
                failure.text = "\n".join(details)
                counts["failures"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def write_private(path: Path, text: str) -> None:
    """Write a report file, replacing any old one only once the new one is whole."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
