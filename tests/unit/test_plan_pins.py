"""What a plan says of its pins: a label from a file name is shown, never obeyed, and the summary stays last."""

from __future__ import annotations

import hashlib

from ccops.cli.plan_pins import plan_json, plan_markdown, plan_text

DIGEST = "0123456789abcdef" * 4
HOSTILE = {"catalogue file catalogue/a|b <!-- x -->.yml": DIGEST, "catalogue file catalogue/\x1b[2Jc.yml": DIGEST}
IMAGE = {"name": "voice-debian12", "version": "2026.11.2", "mode": "rebuild"}


def test_markdown_pins_are_table_cells_whatever_the_file_is_called_and_the_summary_stays_last():
    out = plan_markdown("### plan\n\nbody\n\n**3 hosts in 1 wave**\n", HOSTILE, IMAGE)
    assert "| catalogue file catalogue/a\\|b \\<\\!-- x --\\>.yml | `" in out
    assert "\x1b" not in out and "<!--" not in out
    assert out.endswith("\n\n**3 hosts in 1 wave**\n")
    assert "**image voice-debian12 2026.11.2: written again on active machines" in out


def test_text_pins_are_one_line_each_and_the_summary_stays_last():
    out = plan_text("plan: x\n\nbody\n\n3 hosts in 1 wave", HOSTILE, None)
    assert "\x1b" not in out and out.endswith("\n\n3 hosts in 1 wave")
    assert f"  catalogue file catalogue/\\x1b[2Jc.yml: sha256 {DIGEST}" in out
    assert plan_text("plan: x\n\nsummary", {}, None) == "plan: x\n\nsummary"  # nothing pinned: unchanged


def test_json_pins_are_values_not_keys():
    out = plan_json({"verb": "deploy"}, {"image definition images/golden/x.yml": DIGEST}, IMAGE)
    assert out["pins"] == [{"pin": "image definition images/golden/x.yml", "sha256": DIGEST}]
    assert out["image"] == IMAGE and plan_json({"verb": "patch"}, {}, None) == {"verb": "patch"}


def test_every_pins_hook_names_a_function_and_software_pins_its_catalogue_files(tmp_path):
    from ccops.run.request import RunRequest
    from ccops.run.saved_plan import pins_of
    from ccops.verbs import VERBS, hook

    assert {name for name, verb in VERBS.items() if verb.pins} == {"software-apply", "software-remove", "deploy"}
    assert all(callable(hook(verb.pins)) for verb in VERBS.values() if verb.pins)
    (tmp_path / "catalogue").mkdir()
    (tmp_path / "catalogue" / "apps.yml").write_text("applications: {}\n")
    request = RunRequest(tmp_path, "software-apply")
    pinned = pins_of(VERBS["software-apply"], request)
    expected = hashlib.sha256(b"applications: {}\n").hexdigest()
    assert pinned == {"catalogue file catalogue/apps.yml": expected}
    assert pins_of(VERBS["patch"], request) == {}
