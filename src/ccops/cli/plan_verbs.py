"""What `ccops plan` takes: its verbs as an operator types them, listed in its --help.

The registry names verbs with hyphens (software-apply); an operator types the words
(`ccops plan software apply`), as the commands themselves are spelt. The hyphenated
names are internal: `plan` refuses them with the spelling to use.
"""

from __future__ import annotations

import functools
import textwrap
from typing import Any

import click

from ccops.errors import UsageError

EPILOG_WIDTH = 78  # click indents an epilog by 2


def spoken(name: str) -> str:
    """software-apply -> software apply."""
    return name.replace("-", " ")


def plan_epilog() -> str:
    from ccops.verbs import VERBS

    width = max(len(spoken(name)) for name in VERBS)
    rows: list[str] = []
    for name, verb in VERBS.items():
        # wrapped by hand: click keeps a \b block's lines as they are, and 80 columns must hold them
        lines = textwrap.wrap(verb.summary, EPILOG_WIDTH - width - 6) or [""]
        rows.append(f"  {spoken(name):<{width}}  {lines[0]}")
        rows += [f"  {'':<{width}}  {line}" for line in lines[1:]]
    return "\n".join(["\b", "Verbs (typed as words):", *rows])


def refuse_internal_names(words: tuple[str, ...]) -> None:
    from ccops.verbs import VERBS

    for word in words:
        if "-" in word and word in VERBS:
            raise UsageError(f"plan {word!r}: verbs are typed as words: ccops plan {spoken(word)}")


def teach(command: click.Command) -> None:
    """Give `ccops plan` its verb list and make it refuse the registry's internal names."""
    command.epilog = plan_epilog()
    callback = command.callback
    if callback is None or getattr(callback, "ccops_plan_words", False):
        return

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        refuse_internal_names(tuple(kwargs.get("verb", ())))
        return callback(*args, **kwargs)

    checked.ccops_plan_words = True  # type: ignore[attr-defined]
    command.callback = checked
