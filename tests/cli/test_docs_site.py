"""The documentation site builds strict from the repository, and what it says of the code follows the code.

`mkdocs build --strict` fails on a broken link or anchor, a page left out of the nav, a
`ccops` command the CLI lacks, a repository path that is gone, or a key table that
differs from the keys the code accepts (docs/hooks/ccops_docs.py). The command reference
and the exit-code table are generated from the code at build time.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from ccops.cli.main import cli
from ccops.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parents[2]


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = build(ROOT / "mkdocs.yml", out)
    assert result.returncode == 0, result.stderr
    return out


def page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text()


def command_paths(command: click.Command, ctx: click.Context) -> list[str]:
    paths = [ctx.command_path]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                paths += command_paths(sub, click.Context(sub, info_name=name, parent=ctx))
    return paths


def test_every_page_of_the_nav_is_built(site):
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def pages(nav):
        for entry in nav:
            for value in entry.values() if isinstance(entry, dict) else [entry]:
                yield from pages(value) if isinstance(value, list) else [value]

    built = list(pages(config["nav"]))
    assert len(built) > 25
    for name in built:
        target = site / ("index.html" if name == "index.md" else name.removesuffix(".md") + "/index.html")
        assert target.is_file(), name
    assert not (site / "hooks").exists()  # the hook is code, not a page


def test_the_site_fetches_nothing_from_elsewhere(site):
    """Opened offline or on a closed network, a page loads whole: no font, script or style from another host."""
    for path in site.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"""<(script|img|iframe)[^>]+src=["']?(https?:)?//""", text), path
        assert not re.search(r"""<link[^>]+href=["']?(https?:)?//""", text), path


def test_every_command_of_the_cli_is_in_the_generated_reference(site):
    reference = html.unescape(page(site, "reference/commands"))
    paths = command_paths(cli, click.Context(cli, info_name="ccops"))
    assert {"ccops", "ccops patch", "ccops runs show", "ccops lab vm up"} <= set(paths)
    for path in paths:
        assert f'id="{path.replace(" ", "-")}"' in reference, path
        assert re.search(rf"Usage: {re.escape(path)}( |$)", reference, re.MULTILINE), path


def test_the_exit_code_table_is_the_codes_ccops_ends_with(site):
    table = html.unescape(page(site, "reference/exit-codes"))
    rows = dict(re.findall(r"<tr>\s*<td>(\d+)</td>\s*<td>(.*?)</td>\s*</tr>", table))
    assert {int(code): meaning for code, meaning in rows.items()} == EXIT_CODES


def test_a_broken_link_or_anchor_a_stale_command_option_path_or_key_fail_the_build(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("hooks"))
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["docs_dir"] = str(docs)
    config["hooks"] = [str(ROOT / "docs/hooks/ccops_docs.py")]
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config))
    guide = docs / "how-to/patch.md"
    guide.write_text(
        guide.read_text()
        + "\nSee [the gone page](no-such-page.md), [a gone section](rollback.md#no-such-section),"
        + " `ccops rollbak lab-deb12-01`, `ccops patch --no-such-flag` and `src/ccops/no_such_module.py`.\n"
    )
    keys = docs / "reference/site-file.md"
    keys.write_text(keys.read_text().replace("| `city` | required |\n", ""))

    result = build(tmp_path / "mkdocs.yml", tmp_path / "site")

    assert result.returncode != 0
    for message in (
        "no-such-page.md",
        "no-such-section",
        "`ccops rollbak` names no ccops command",
        "`ccops patch` has no option --no-such-flag",
        "`src/ccops/no_such_module.py` is no file or folder of the repository",
        "the key table for ccops.inventory.site_file:SITE_KEYS lacks city",
    ):
        assert message in result.stderr, (message, result.stderr)
