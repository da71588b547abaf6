"""The security tracker's export: its shape read strictly; what does not fit is left out and counted."""

import json

import pytest

from ccops.errors import CcopsError
from ccops.vulns.tracker import parse_export

EXPORT = {
    "openssl": {
        "CVE-2024-9143": {
            "description": "<b>markup</b>",
            "scope": "local",
            "releases": {
                "bookworm": {
                    "status": "resolved",
                    "repositories": {"bookworm": "3.0.15-1~deb12u1"},
                    "fixed_version": "3.0.15-1~deb12u1",
                    "urgency": "low",
                },
                "trixie": {"status": "open", "repositories": {}, "urgency": "high**"},
            },
        },
        "TEMP-0000000-ABCDEF": {"releases": {"bookworm": {"status": "open", "urgency": "low"}}},
        "CVE-2024-0001": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "0", "urgency": "x"}}},
        "CVE-2024-0002": {"releases": {"bookworm": {"status": "fixed?", "urgency": "low"}}},  # not a status
        "CVE-2024-0003": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "not a version!"}}},
        "CVE-2024-0004": {"releases": ["bookworm"]},
    },
    "Not A Package": {"CVE-2024-0005": {"releases": {}}},
}


def _write(tmp_path, data, name="export.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_entries_of_the_declared_shape_are_kept_the_rest_counted(tmp_path):
    imported = parse_export(_write(tmp_path, EXPORT))
    assert imported.data == {
        "openssl": {
            "CVE-2024-9143": {
                "bookworm": ("resolved", "3.0.15-1~deb12u1", "low"),
                "trixie": ("open", "", "high"),
            },
            "CVE-2024-0001": {"bookworm": ("resolved", "0", "unknown")},
        }
    }
    assert (imported.kept, imported.skipped) == (2, 4)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"openssl": {\n  "CVE-1": ', "export.json:2: not JSON"),
        ('{"a": NaN}', "not readable"),
        ("[1, 2]", "not list"),
        ("[" * 100000 + "]" * 100000, "not readable"),
    ],
)
def test_not_the_export_is_one_line_naming_the_file(tmp_path, text, message):
    with pytest.raises(CcopsError) as raised:
        parse_export(_write(tmp_path, text))
    assert message in str(raised.value) and str(tmp_path) in str(raised.value)
    assert "\n" not in str(raised.value)
