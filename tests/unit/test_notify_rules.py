"""notify.yml: channels and per-site rules, read like a site file (FILE:LINE problems, secrets as references)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccops.errors import InventoryError
from ccops.notify.rules import load_rules
from ccops.notify.send import channel_sites
from tests.notify_fixtures import inventory

RULES = """\
channels:
  mail:
    kind: mail
    server: mail.lab.test
    from: ccops@lab.test
    to: [duty@lab.test]
  hook:
    kind: webhook
    url: http://127.0.0.1:8080/ccops
    secret: {env: HOOK_SECRET}
  aaa-chat:
    kind: wecom
    key: {env: WECOM_KEY}
rules:
  - events: [failed, halted]
    channels: [mail]
  - events: [rolled_back, refused]
    sites: [aaa]
    channels: [aaa-chat]
  - events: [succeeded]
    sites: [bbb]
    channels: [hook]
"""


def test_rules_route_each_event_to_its_channels_per_site(tmp_path: Path) -> None:
    rules = load_rules(inventory(tmp_path, RULES), {"aaa", "bbb"})
    assert channel_sites(rules, {"failed"}, {"aaa", "bbb"}) == {"mail": None}
    assert channel_sites(rules, {"refused"}, {"aaa", "bbb"}) == {"aaa-chat": {"aaa"}}
    assert channel_sites(rules, {"refused"}, {"bbb"}) == {}
    assert channel_sites(rules, {"succeeded"}, {"aaa"}) == {}
    assert channel_sites(rules, {"succeeded"}, {"aaa", "bbb"}) == {"hook": {"bbb"}}
    assert channel_sites(rules, {"failed", "rolled_back"}, {"aaa"}) == {"mail": None, "aaa-chat": {"aaa"}}


def test_an_inventory_without_notify_yml_sends_nothing(tmp_path: Path) -> None:
    root = inventory(tmp_path, "")
    (root / "notify.yml").unlink()
    assert channel_sites(load_rules(root), {"failed"}, {"aaa"}) == {}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("secret: {env: HOOK_SECRET}", "secret: plain-text-secret"),
            "notify.yml:10: channels.hook.secret: secrets are never written",
        ),
        (("kind: wecom", "kind: slack"), "notify.yml:12: channels.aaa-chat.kind: unknown value 'slack'"),
        (("sites: [aaa]", "sites: [zzz]"), "notify.yml:18: rules[1].sites[0]: unknown site 'zzz'"),
        (("[failed, halted]", "[failed, exploded]"), "notify.yml:15: rules[0].events[1]: unknown event 'exploded'"),
        (("channels: [mail]", "channels: [pager]"), "notify.yml:16: rules[0].channels[0]: unknown channel 'pager'"),
        (
            ("http://127.0.0.1:8080/ccops", "file:///etc/passwd"),
            "notify.yml:9: channels.hook.url: 'file:///etc/passwd' is not an http(s) URL",
        ),
        (
            ("server: mail.lab.test", "server: 'mail.lab.test/x?y'"),
            "notify.yml:4: channels.mail.server: 'mail.lab.test/x?y' is not a host name",
        ),
        (("to: [duty@lab.test]", "to: ['a@b.test?bcc=all@x.test']"), "notify.yml:6: channels.mail.to[0]:"),
        (("to: [duty@lab.test]", 'to: ["a@b.test\\nBcc: all@x.test"]'), "notify.yml:6: channels.mail.to[0]:"),
        (("from: ccops@lab.test", 'from: "ccops@lab.test\\r\\nX-Evil: 1"'), "notify.yml:5: channels.mail.from:"),
        (
            ("    from: ccops@lab.test\n", "    from: ccops@lab.test\n    colour: red\n"),
            "notify.yml:6: channels.mail.colour: unknown key",
        ),
        (("url: http", 'url: \'{{ lookup("env", "HOME") }}\'\n    x: http'), "notify.yml:9:"),
    ],
)
def test_bad_rules_are_one_line_naming_file_and_line(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    root = inventory(tmp_path, RULES.replace(*change))
    with pytest.raises(InventoryError) as caught:
        load_rules(root, {"aaa", "bbb"})
    lines = str(caught.value).splitlines()
    assert any(expected in line for line in lines), lines
    assert all(line.startswith(str(root / "notify.yml")) for line in lines)
