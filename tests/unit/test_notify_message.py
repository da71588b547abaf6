"""A run's report as a message: its judgement per host, escaped for each sink, with no secret in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccops.notify.channels import DeliveryError, Outgoing, deliver, service_args, signature, verify
from ccops.notify.message import events_of, judgement, redact, render
from ccops.notify.rules import Channel
from tests.notify_fixtures import HOSTILE, SECRET, record


def unescaped(markdown: str, chars: str) -> list[str]:
    """Markup characters in ``markdown`` not preceded by a backslash, outside ccops's own " | " separators."""
    body = markdown.replace(" | ", " ")
    return [c for i, c in enumerate(body) if c in chars and (i == 0 or body[i - 1] != "\\")]


SITES = {"aaa-t01": "aaa", "aaa-t02": "aaa", "bbb-t01": "bbb", "bbb-t02": "bbb"}


def test_a_run_raises_its_status_and_the_refusals_and_rollbacks_among_its_hosts(tmp_path: Path) -> None:
    assert events_of(record(tmp_path)) == {"failed", "refused", "rolled_back"}
    assert events_of(record(tmp_path, "halted", hosts=[])) == {"halted"}
    assert events_of(record(tmp_path, "succeeded", hosts=[])) == {"succeeded"}


def test_the_message_is_the_run_s_judgement_not_a_link(tmp_path: Path) -> None:
    doc = judgement(record(tmp_path), SITES)
    text = render(doc, "text")
    assert "aaa-t01" in text and "outcome: ok" in text and "reason: 2 updates" in text
    assert "Refused (1)" in text and "bbb-t01" in text and "seat busy" in text
    assert "aaa-t01-20261207-before" in text and "ab" * 32 in text  # backup id and sha256
    assert "openssl" in text and "3.0.1 -> 3.0.2" in text
    assert "Rolled back (1)" in text and "aaa-t02-20261207-before" in text and "health check failed" in text
    assert "Left unknown (1)" in text and "bbb-t02" in text
    assert "CHG-7" in text


def test_a_channel_for_one_site_hears_only_that_site_s_hosts(tmp_path: Path) -> None:
    doc = judgement(record(tmp_path), SITES, {"aaa"})
    assert {h["host"] for h in doc["hosts"]} == {"aaa-t01", "aaa-t02"}
    assert doc["refused"] == [] and doc["unknown"] == [] and doc["sites"] == ["aaa"]


def test_hostile_host_text_is_inert_in_every_sink(tmp_path: Path) -> None:
    doc = judgement(record(tmp_path), SITES)
    text, markdown, body = render(doc, "text"), render(doc, "markdown"), render(doc, "json")
    for out in (text, markdown, body):
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b]52" in text and "\\u202e" in text
    assert not unescaped(markdown, "<![]`|") and "\\<\\!--" in markdown and "\\*\\*b\\*\\*" in markdown
    parsed = json.loads(body)  # strict JSON whatever the host said
    assert HOSTILE in parsed["rollbacks"][0]["reason"]
    assert all(ord(c) < 128 for c in body)


def test_hostile_inventory_values_are_inert_too(tmp_path: Path) -> None:
    bad = {"aaa-t01": "a|a<!--\x1b[2J"}
    doc = judgement(record(tmp_path), {**SITES, **bad})
    markdown = render({**doc, "change_id": "CHG `rm -rf` [x](http://e.test)"}, "markdown")
    assert "\x1b" not in markdown and not unescaped(markdown, "<![]`|")


def test_secrets_never_reach_a_message(tmp_path: Path) -> None:
    doc = redact(judgement(record(tmp_path), SITES), {SECRET, "abc"})
    for form in ("text", "markdown", "json"):
        out = render(doc, form)
        assert SECRET not in out
        assert "redacted by ccops" in out
    assert "abc" in render(redact({"x": "abcdef"}, {"abc"}), "json")  # too short to redact words


def test_a_webhook_signature_is_checked_over_timestamp_and_message() -> None:
    sig = signature("k3y", "1765100000", '{"run": 1}')
    assert verify("k3y", "1765100000", '{"run": 1}', sig, now=1765100010)
    assert not verify("other", "1765100000", '{"run": 1}', sig, now=1765100010)
    assert not verify("k3y", "1765100000", '{"run": 2}', sig, now=1765100010)
    assert not verify("k3y", "1765100001", '{"run": 1}', sig, now=1765100010)
    assert not verify("k3y", "1765100000", '{"run": 1}', sig, now=1765100000 + 3600)  # a replayed old post
    assert not verify("k3y", "soon", '{"run": 1}', sig)


def test_apprise_gets_each_value_as_an_argument_never_a_pasted_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "k3y")
    hook = Channel("hook", "webhook", {"url": "http://127.0.0.1:9/in/box?x=1", "secret": {"env": "HOOK_SECRET"}})
    args = service_args(hook, tmp_path, now=1765100000, message="m")
    assert args["host"] == "127.0.0.1" and args["port"] == 9 and args["fullpath"] == "/in/box?x=1"
    assert args["headers"]["X-Ccops-Signature"] == signature("k3y", "1765100000", "m")
    # a secret that would be a different service if pasted into a URL is refused by the plugin's own check
    monkeypatch.setenv("WECOM_KEY", "abc@evil.test/x#")
    wecom = Channel("chat", "wecom", {"key": {"env": "WECOM_KEY"}})
    with pytest.raises(DeliveryError, match="Apprise refused"):
        deliver(wecom, tmp_path, Outgoing("t", "b", "markdown"))


def test_a_secret_read_from_a_file_is_relative_to_the_inventory(tmp_path: Path) -> None:
    (tmp_path / "hook.key").write_text("filek3y\n")
    hook = Channel("hook", "webhook", {"url": "https://h.test/x", "secret": {"file": "hook.key"}})
    args = service_args(hook, tmp_path, now=1765100000, message="m")
    assert args["secure"] is True and args["schema"] == "jsons"
    assert args["headers"]["X-Ccops-Signature"] == signature("filek3y", "1765100000", "m")
    missing = Channel("hook", "webhook", {"url": "https://h.test/x", "secret": {"env": "CCOPS_TEST_UNSET_VAR"}})
    with pytest.raises(DeliveryError, match="CCOPS_TEST_UNSET_VAR is not set"):
        service_args(missing, tmp_path)
