"""MkDocs hook: what the code knows is generated from the code, and a page that disagrees fails the build.

Markers in a page are replaced at build time:
  <!-- ccops:commands -->     every command of ccops.cli.main's click tree, with its --help
  <!-- ccops:exit-codes -->   the exit-code table of ccops.errors (the one ``ccops --help`` prints)

Checks, each a warning (so ``mkdocs build --strict`` fails):
  - a ``ccops WORD ... --option`` in inline code or a shell block names a command the click tree
    lacks, or an option that command does not take;
  - a repository path in inline code (``src/...``, ``roles/...``) that matches no file;
  - a key table after ``<!-- ccops:keys MODULE:NAME -->`` whose first column differs from the
    keys the code accepts (a tuple of keys, a dict's keys, or the first item of each tuple).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from mkdocs.plugins import get_plugin_logger

log = get_plugin_logger("ccops")

ROOT = Path(__file__).resolve().parents[2]
REPO_FOLDERS = ("src", "tests", "roles", "playbooks", "images", "inventory", "scripts", "benchmarks", "molecule")
# paths the docs name that a run makes, not the repository: never checked
MADE_AT_RUN_TIME = ("inventory/lab",)
HELP_WIDTH = 80  # what a code block on the page shows without scrolling

COMMANDS_MARKER = "<!-- ccops:commands -->"
EXIT_CODES_MARKER = "<!-- ccops:exit-codes -->"
KEYS_MARKER = re.compile(r"^<!-- ccops:keys ([\w.]+):(\w+)(?:\[(\w+)\])? -->$")

CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SHELL_LANGS = ("sh", "bash", "console", "shell")
# a command as typed: an optional path to the program, then its words, arguments and options
COMMAND_LINE = re.compile(r"^(?:\$ )?(?:\S*/)?ccops((?:\s.*)?)$")
REPO_PATH = re.compile(r"^(?:" + "|".join(REPO_FOLDERS) + r")/[\w./*-]*$")
PLACEHOLDER = re.compile(r"[A-Z]{2,}|<")


def root_group() -> click.Group:
    from ccops.cli.main import cli

    return cli


def walk(command: click.Command, ctx: click.Context) -> Iterator[tuple[click.Context, click.Command]]:
    """Every command under this one, depth first, each with the context its --help is made in."""
    yield ctx, command
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))


def root_context() -> click.Context:
    group = root_group()
    settings = dict(group.context_settings)
    settings["max_content_width"] = HELP_WIDTH
    return click.Context(group, info_name="ccops", terminal_width=HELP_WIDTH, **settings)


def all_command_paths() -> list[str]:
    """Every command's path, as typed (``ccops runs show``)."""
    return [ctx.command_path for ctx, _ in walk(root_group(), root_context())]


def command_reference() -> str:
    parts = []
    for ctx, command in walk(root_group(), root_context()):
        depth = len(ctx.command_path.split())
        heading = "#" * min(depth + 1, 6)
        summary = command.get_short_help_str(limit=200)
        parts.append(f"{heading} {ctx.command_path}\n\n{summary}\n\n```text\n{command.get_help(ctx).rstrip()}\n```\n")
    return "\n".join(parts)


def exit_code_table() -> str:
    from ccops.errors import EXIT_CODES

    rows = ["| {} | {} |".format(code, meaning.replace("|", "\\|")) for code, meaning in EXIT_CODES.items()]
    return "\n".join(["| code | meaning |", "|---|---|", *rows]) + "\n"


def code_keys(module: str, name: str, index: str | None) -> set[str]:
    value: Any = getattr(importlib.import_module(module), name)
    if index is not None:
        value = value[index]
    return {item[0] if isinstance(item, tuple) else str(item) for item in value}


def table_keys(lines: list[str]) -> set[str]:
    """The first column of the markdown table these lines start with (header and rule skipped)."""
    keys = set()
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        keys.add(line.split("|")[1].strip().strip("`"))
    return keys


def check_key_tables(markdown: str, page: str) -> None:
    lines = markdown.splitlines()
    for number, line in enumerate(lines):
        found = KEYS_MARKER.match(line.strip())
        if not found:
            continue
        module, name, index = found.groups()
        source = f"{module}:{name}" + (f"[{index}]" if index else "")
        table = [row for row in lines[number + 1 :] if row.strip()][:1]
        start = lines.index(table[0], number + 1) if table else len(lines)
        documented = table_keys(lines[start:])
        accepted = code_keys(module, name, index)
        if missing := sorted(accepted - documented):
            log.warning("%s: the key table for %s lacks %s", page, source, ", ".join(missing))
        if extra := sorted(documented - accepted):
            log.warning(
                "%s: the key table for %s lists keys the code does not accept: %s", page, source, ", ".join(extra)
            )


def check_command(typed: str, page: str) -> None:
    """A command as typed: its words name a command of the tree, its --options are that command's."""
    command: click.Command = root_group()
    ctx = root_context()
    words = typed.split()
    at = 0
    while at < len(words) and isinstance(command, click.Group) and not words[at].startswith("-"):
        sub = command.get_command(ctx, words[at])
        if sub is None:
            if re.fullmatch(r"[a-z][a-z0-9-]*", words[at]):
                log.warning("%s: `%s %s` names no ccops command", page, ctx.command_path, words[at])
            return
        command, ctx = sub, click.Context(sub, info_name=words[at], parent=ctx)
        at += 1
    known = {name for param in command.get_params(ctx) for name in (*param.opts, *param.secondary_opts)}
    for word in words[at:]:
        option = word.split("=", 1)[0]
        if option.startswith("--") and len(option) > 2 and option not in known:
            log.warning("%s: `%s` has no option %s", page, ctx.command_path, option)


def check_repo_path(text: str, page: str) -> None:
    path = text.rstrip("/")
    if PLACEHOLDER.search(path) or path.startswith(MADE_AT_RUN_TIME):
        return
    exists = any(ROOT.glob(path)) if "*" in path else (ROOT / path).exists()
    if not exists:
        log.warning("%s: `%s` is no file or folder of the repository", page, text)


def check_references(markdown: str, page: str) -> None:
    for lang, body in FENCE.findall(markdown):
        if lang in SHELL_LANGS:
            for line in body.splitlines():
                code = line.split(" #", 1)[0].strip()
                for part in re.split(r"&&|\|\||;|\|", code):
                    if found := COMMAND_LINE.match(part.strip()):
                        check_command(found.group(1), page)
    prose = FENCE.sub("", markdown)
    for span in CODE_SPAN.findall(prose):
        if found := COMMAND_LINE.match(span):
            check_command(found.group(1), page)
        elif REPO_PATH.match(span):
            check_repo_path(span, page)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    name = page.file.src_uri
    check_references(markdown, name)
    check_key_tables(markdown, name)
    if COMMANDS_MARKER in markdown:
        markdown = markdown.replace(COMMANDS_MARKER, command_reference())
    if EXIT_CODES_MARKER in markdown:
        markdown = markdown.replace(EXIT_CODES_MARKER, exit_code_table())
    return markdown
