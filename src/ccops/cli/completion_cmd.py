"""ccops completion SHELL: the script a shell sources to complete ccops' commands and names."""

from __future__ import annotations

import click

from ccops.cli.output import echo

SHELLS = ("bash", "zsh", "fish")


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL: commands, options, and host, site and run names.

    \b
    bash:  eval "$(ccops completion bash)"     (in ~/.bashrc)
    zsh:   eval "$(ccops completion zsh)"      (in ~/.zshrc)
    fish:  ccops completion fish > ~/.config/fish/completions/ccops.fish

    Names come from the inventory (-i, else $CCOPS_INVENTORY, else the lab's) and
    the run records; completing never contacts a host.
    """
    from click.shell_completion import get_completion_class

    from ccops.cli.main import cli

    script_class = get_completion_class(shell)
    if script_class is None:  # click knows the three SHELLS; kept for a click without one
        raise click.UsageError(f"no completion for {shell}")
    echo(script_class(cli, {}, "ccops", "_CCOPS_COMPLETE").source())  # click's own script: inert text
