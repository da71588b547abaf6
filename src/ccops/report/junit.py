"""A compliance run as JUnit XML: a CI pipeline shows each host and policy as a test.

One test suite per host, one test case per policy checked on it; a policy with
deviations is a failure carrying one line per deviation. A host that could not
be checked (unreachable, failed before its check) is one errored test case.

Host names, policies and deviation details reach the XML through :func:`_text`
and :func:`_attr`: a character XML 1.0 forbids (most controls) would make the
file unreadable to the CI, and the others (escapes, bidi overrides) would reach
its log view; both are written as visible escapes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from ccops.text.safe_text import visible, visible_lines

if TYPE_CHECKING:
    from ccops.run.request import RunResult


def _attr(value: object) -> str:
    return visible(value)


def _text(value: object) -> str:
    return visible_lines(value)


def compliance_junit(result: RunResult) -> str:
    suites = ET.Element("testsuites", name=_attr(f"ccops {result.verb} {result.run_id}"))
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for outcome in result.hosts:
        report: dict[str, Any] = result.reports.get(outcome.host) or {}
        host = _attr(outcome.host)
        suite = ET.SubElement(suites, "testsuite", name=host)
        counts = {"tests": 0, "failures": 0, "errors": 0}
        policies = report.get("policies")
        if policies is None:  # never checked: the reason is the host's message
            case = ET.SubElement(suite, "testcase", classname=host, name="checked")
            error = ET.SubElement(case, "error", message=_attr(f"{outcome.outcome}: {outcome.message or ''}".strip()))
            error.text = _text(outcome.message or outcome.outcome)
            counts.update(tests=1, errors=1)
        for policy in policies if isinstance(policies, list) else []:
            case = ET.SubElement(suite, "testcase", classname=host, name=_attr(policy))
            counts["tests"] += 1
            details = [
                d.get("detail")
                for d in report.get("deviations") or []
                if isinstance(d, dict) and d.get("policy") == policy
            ]
            if details:
                failure = ET.SubElement(case, "failure", message=_attr(details[0]), type="deviation")
                failure.text = "\n".join(_attr(d) for d in details)
                counts["failures"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
