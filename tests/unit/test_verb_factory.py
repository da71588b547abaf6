"""The command factory (cli/verb_cmd.py) builds a verb's command from its registry entry alone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import click
import pytest
from click.testing import CliRunner

from ccops.cli import verb_cmd
from ccops.cli.confirm import check_names
from ccops.errors import RefusedError
from ccops.verbs import CHANGE_ID_OPTIONAL, CHANGE_ID_STANDING, CONFIRM_NAMES, CONFIRM_NONE, VERBS, Verb, VerbOption
from tests.conftest import EXAMPLE

GUARDED: list[str] = []


def refusing_guard(inventory: Any, selector: Any, options: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    GUARDED.append(f"{len(inventory.hosts)} hosts, include={options.get('small_include_all')}")
    raise RefusedError("guard says no")


def _small(**changes: Any) -> Verb:
    return replace(VERBS["patch"], **{"name": "small", "help": "A small verb.", "options": (), **changes})


def _options(command: click.Command) -> dict[str, click.Parameter]:
    return {p.opts[0]: p for p in command.params if isinstance(p, click.Option)}


def test_a_changing_verb_gets_the_shared_options_and_the_confirmation_its_entry_names() -> None:
    plain = _options(verb_cmd.verb_command(_small()))
    assert plain["--change-id"].required and "--yes" in plain and "--confirm" not in plain
    assert {"--batch-size", "--emergency", "--forks", "--plan", "-o", "--events", "-i", "--site"} <= set(plain)
    named = _options(verb_cmd.verb_command(_small(confirmation=CONFIRM_NAMES)))
    assert "--confirm" in named and "--yes" not in named
    silent = _options(verb_cmd.verb_command(_small(confirmation=CONFIRM_NONE)))
    assert "--confirm" not in silent and "--yes" not in silent


def test_a_read_only_verb_is_not_asked_and_its_change_id_follows_its_rule() -> None:
    read_only = _options(verb_cmd.verb_command(_small(changes_hosts=False, change_id="", confirmation=CONFIRM_NAMES)))
    assert not read_only["--change-id"].required and "--confirm" not in read_only and "--batch-size" not in read_only
    optional = _options(verb_cmd.verb_command(_small(change_id=CHANGE_ID_OPTIONAL)))
    assert not optional["--change-id"].required
    assert _options(verb_cmd.verb_command(_small(change_id=CHANGE_ID_STANDING)))["--change-id"].required


def test_a_flag_option_is_an_on_off_switch() -> None:
    flag = VerbOption("--include-all", "small_include_all", "Every host.", is_flag=True)
    option = _options(verb_cmd.verb_command(_small(options=(flag,))))["--include-all"]
    assert isinstance(option, click.Option) and option.is_flag and option.name == "small_include_all"


def test_the_guard_refuses_before_any_plan_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    import ccops.run

    def no_plan(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("planned although the guard refused")

    monkeypatch.setattr(ccops.run, "prepare", no_plan)
    GUARDED.clear()
    flag = VerbOption("--include-all", "small_include_all", "Every host.", is_flag=True)
    verb = _small(guard=f"{__name__}:refusing_guard", options=(flag,))
    args = ["-i", str(EXAMPLE), "--change-id", "CHG-1", "--include-all", "--yes"]
    result = CliRunner().invoke(verb_cmd.verb_command(verb), args)
    assert isinstance(result.exception, RefusedError) and "guard says no" in str(result.exception)
    assert len(GUARDED) == 1 and GUARDED[0].endswith("include=True")  # it saw the inventory and the flag


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("aaa-t01", "not typed: aaa-t02"),
        ("aaa-t01 aaa-t02 aaa-t03", "not selected: aaa-t03"),
        ("aaa-t01 aaa-t01", "not typed: aaa-t02"),
        ("aaa-t01,aaa-t02,aaa-t02", "a name given twice"),
        ("", "not typed: aaa-t01, aaa-t02"),
    ],
)
def test_typed_names_must_be_exactly_the_selected_hosts(typed: str, why: str) -> None:
    with pytest.raises(RefusedError, match=why):
        check_names(["aaa-t02", "aaa-t01"], typed)
    check_names(["aaa-t02", "aaa-t01"], " aaa-t01,aaa-t02 ")  # spaces or commas, any order
